//! The page `cargo run --example serve` serves at `/` (examples/serve_page.html),
//! in a real browser: headless Chromium loads it with a question and an
//! answer to the approval preset in its address; the page makes a thread,
//! streams the ReAct agent's run over the Agent Server API, shows its
//! tokens, stops at the tool's interrupt, resumes with the approval, and
//! shows the answer. A screenshot of the page is saved beside the test
//! binaries (`target/agent-page.png`).
//!
//! The page streams for as long as the runs take, so the test drives the
//! browser over the DevTools protocol (a WebSocket) and waits for the page
//! to say it is done, rather than dumping the page when it has loaded.
//!
//! It needs Debian's chromium (`bash scripts/chromium/setup.sh`); without
//! it the test passes with a note, unless `RUNWRIGHT_REQUIRE_CHROMIUM=1`
//! (as in `.ci/run`) makes that a failure.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use base64::Engine;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::chromium::{chromium, HEADLESS};
use crate::langserve_client::example as serve_example;

/// The browser, or `None` (with a note) when there is none and none is
/// required.
fn browser_or_skip() -> Option<PathBuf> {
    match chromium() {
        Ok(b) => Some(b),
        Err(why) if std::env::var_os("RUNWRIGHT_REQUIRE_CHROMIUM").is_some_and(|v| v == "1") => {
            panic!("RUNWRIGHT_REQUIRE_CHROMIUM=1 and {why}")
        }
        Err(why) => {
            eprintln!("skipped: {why}; then `RUNWRIGHT_REQUIRE_CHROMIUM=1 cargo test --test it browser_page`");
            None
        }
    }
}

/// A page of headless Chromium, driven over the DevTools protocol.
struct Page {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    session: String,
    next_id: u64,
    _browser: tokio::process::Child,
}

impl Page {
    /// Starts the browser (killed when the page is dropped) and opens `url`.
    async fn open(browser: &Path, profile: &Path, url: &str) -> Page {
        let mut child = tokio::process::Command::new(browser)
            .args(HEADLESS)
            .args(["--window-size=1000,700", "--remote-debugging-port=0"])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", browser.display()));
        // Chromium says where its DevTools listen on stderr.
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let endpoint = tokio::time::timeout(Duration::from_secs(30), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(at) = line.find("ws://") {
                    return line[at..].trim().to_owned();
                }
            }
            panic!("{} exited without a DevTools endpoint", browser.display())
        })
        .await
        .expect("no DevTools endpoint within 30 s");
        // The rest of its log is read and dropped, so it never blocks on a
        // full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let (socket, _) = tokio_tungstenite::connect_async(&endpoint)
            .await
            .expect("DevTools WebSocket");
        let mut page = Page {
            socket,
            session: String::new(),
            next_id: 0,
            _browser: child,
        };
        let target = page.call("Target.createTarget", json!({ "url": url })).await;
        let target = target["targetId"].as_str().expect("a target id").to_owned();
        let attached = page
            .call("Target.attachToTarget", json!({ "targetId": target, "flatten": true }))
            .await;
        page.session = attached["sessionId"].as_str().expect("a session id").to_owned();
        page
    }

    /// Sends `method` (to the page's session once attached) and returns its
    /// result; events in between are skipped.
    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if !self.session.is_empty() {
            message["sessionId"] = json!(self.session);
        }
        self.socket
            .send(Message::text(message.to_string()))
            .await
            .expect("DevTools send");
        loop {
            let reply = tokio::time::timeout(Duration::from_secs(30), self.socket.next())
                .await
                .unwrap_or_else(|_| panic!("no answer to {method} within 30 s"))
                .expect("DevTools closed")
                .expect("DevTools message");
            let Message::Text(text) = reply else { continue };
            let reply: Value = serde_json::from_str(&text).expect("DevTools JSON");
            if reply["id"] == json!(id) {
                assert!(reply.get("error").is_none(), "{method}: {reply}");
                return reply["result"].clone();
            }
        }
    }

    /// The value of the JavaScript expression `js` in the page.
    async fn eval(&mut self, js: &str) -> Value {
        let result = self
            .call("Runtime.evaluate", json!({ "expression": js, "returnByValue": true }))
            .await;
        result["result"]["value"].clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_page_streams_the_run_and_resumes_it_in_chromium() {
    let Some(browser) = browser_or_skip() else { return };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(
        serve_example::server()
            .expect("the example's server")
            .serve_on(listener),
    );
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-page");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    let url = format!("http://{addr}/?q=fly%20me%20to%20Lisbon&approve=yes");
    let mut page = Page::open(&browser, &dir.join("profile"), &url).await;
    // The page says what it does in `#status`: streaming, waiting for the
    // approval, then done (or an error).
    let mut status = Value::Null;
    for _ in 0..300 {
        status = page.eval("document.getElementById('status')?.textContent ?? ''").await;
        if status == "done" || status.as_str().is_some_and(|s| s.starts_with("error")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let dom = page.eval("document.documentElement.outerHTML").await;
    let dom = dom.as_str().unwrap_or_default();
    assert_eq!(status, "done", "the page did not finish its run:\n{dom}");

    let bubbles = |kind: &str| -> Vec<String> {
        dom.split(r#"<div class="msg "#)
            .skip(1)
            .filter(|m| m.starts_with(&format!("{kind}\"")))
            .map(|m| m.split("</div>").next().unwrap_or_default())
            .map(|m| m.rsplit('>').next().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(bubbles("human"), ["fly me to Lisbon"], "{dom}");
    // The model's two messages, token by token into their bubbles; the
    // second came after the approval resumed the run; between them, the
    // tool's answer.
    assert_eq!(
        bubbles("ai"),
        ["Let me book that.", serve_example::AGENT_ANSWER],
        "{dom}"
    );
    assert_eq!(bubbles("tool"), ["booked a flight to Lisbon"], "{dom}");
    // The tool's interrupt asked its question; the preset answer went back.
    assert!(
        dom.contains(r#"<p id="question">book a flight to Lisbon?</p>"#),
        "{dom}"
    );

    // A screenshot to look at.
    let shot = page.call("Page.captureScreenshot", json!({ "format": "png" })).await;
    let png = base64::engine::general_purpose::STANDARD
        .decode(shot["data"].as_str().expect("screenshot data"))
        .expect("base64 PNG");
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    let path = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target folder")
        .join("agent-page.png");
    std::fs::write(&path, png).unwrap();
    eprintln!("screenshot: {}", path.display());
    drop(page);
    server.abort();
}
