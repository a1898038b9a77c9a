//! Every message a user of the macros can see, kept in `ui/fail/*.stderr`,
//! and the forms that must compile (and run) in `ui/pass`. After changing a
//! message: `TRYBUILD=overwrite cargo test -p runwright-macros --test ui`,
//! then read the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
