struct NotARunnable;

fn main() {
    let _pipeline = runwright::chain!(NotARunnable | runwright::passthrough::<String>());
}
