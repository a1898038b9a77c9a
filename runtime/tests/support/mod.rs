//! A fault-injecting HTTP server on 127.0.0.1 for the provider tests: it
//! answers each request with the next [`Reply`] of its script (statuses,
//! `Retry-After`, event streams that stall, drip, break off or end early),
//! records what it was sent and when, and notices when a client leaves.
//!
//! Each test binary uses a different subset, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value as Json;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Notify};
use tokio::time::Instant;

type BoxBody = http_body_util::combinators::BoxBody<Bytes, std::io::Error>;

/// What the server does with one request.
#[derive(Clone, Debug)]
pub enum Reply {
    /// A whole response: status, headers, body.
    Status {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// `200 text/event-stream`, its body made of these parts, in order; the
    /// body ends cleanly after the last part.
    Stream(Vec<Part>),
    /// No response head for this long (then a 500).
    Hang(Duration),
}

/// A piece of a streamed body.
#[derive(Clone, Debug)]
pub enum Part {
    /// These bytes, as one write.
    Bytes(Vec<u8>),
    /// A pause.
    Sleep(Duration),
    /// Break the connection off (the body ends without its last chunk).
    Abort,
    /// Send nothing more; keep the connection until the client leaves.
    Stall,
    /// Send these bytes again and again, this far apart, until the client
    /// leaves.
    Drip(Vec<u8>, Duration),
}

impl Reply {
    /// A status with a JSON body.
    pub fn json(status: u16, body: Json) -> Reply {
        Reply::Status {
            status,
            headers: vec![("content-type", "application/json".into())],
            body: body.to_string(),
        }
    }

    /// Adds a header to a [`Reply::Status`].
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        if let Reply::Status { headers, .. } = &mut self {
            headers.push((name, value.into()));
        }
        self
    }

    /// A whole event stream.
    pub fn sse(bytes: impl Into<Vec<u8>>) -> Reply {
        Reply::Stream(vec![Part::Bytes(bytes.into())])
    }
}

/// A request the server got.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub at: Instant,
    pub path: String,
    pub headers: hyper::HeaderMap,
    pub body: Json,
}

#[derive(Default)]
struct State {
    script: Mutex<VecDeque<Reply>>,
    requests: Mutex<Vec<Recorded>>,
    disconnects: Mutex<Vec<Instant>>,
    disconnected: Notify,
}

/// The server; it stops when dropped.
pub struct FaultServer {
    /// `http://127.0.0.1:<port>`
    pub url: String,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultServer {
    /// Starts a server that answers requests with `script`, one reply each;
    /// past its end, every request gets a 500.
    pub async fn start(script: impl IntoIterator<Item = Reply>) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(State::default());
        state.script.lock().unwrap().extend(script);
        let accept_state = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let state = accept_state.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(state.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        FaultServer { url, state, task }
    }

    /// The requests so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    /// The gaps between consecutive requests.
    pub fn gaps(&self) -> Vec<Duration> {
        let r = self.requests();
        r.windows(2).map(|w| w[1].at - w[0].at).collect()
    }

    /// How many streamed answers the server saw their client leave before
    /// the end.
    pub fn disconnects(&self) -> usize {
        self.state.disconnects.lock().unwrap().len()
    }

    /// Waits (at most `limit`) until a client has left mid-stream; whether
    /// one did.
    pub async fn wait_for_disconnect(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            let notified = self.state.disconnected.notified();
            if self.disconnects() > 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.disconnects() > 0;
            }
        }
    }
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Result<Response<BoxBody>, Infallible> {
    let path = req.uri().path().to_owned();
    let headers = req.headers().clone();
    let at = Instant::now();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let body = serde_json::from_slice(&body).unwrap_or(Json::Null);
    state.requests.lock().unwrap().push(Recorded {
        at,
        path,
        headers,
        body,
    });
    let reply = state.script.lock().unwrap().pop_front();
    let reply =
        reply.unwrap_or_else(|| Reply::json(500, serde_json::json!({"error": {"message": "script exhausted"}})));
    Ok(match reply {
        Reply::Status { status, headers, body } => {
            let mut response = Response::builder().status(status);
            for (name, value) in headers {
                response = response.header(name, value);
            }
            response
                .body(Full::new(Bytes::from(body)).map_err(|never| match never {}).boxed())
                .unwrap()
        }
        Reply::Hang(d) => {
            tokio::time::sleep(d).await;
            Response::builder()
                .status(500)
                .body(Full::new(Bytes::new()).map_err(|never| match never {}).boxed())
                .unwrap()
        }
        Reply::Stream(parts) => {
            let (tx, mut rx) = mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(1);
            tokio::spawn(drive(parts, tx, state));
            let frames = futures::stream::poll_fn(move |cx| rx.poll_recv(cx));
            Response::builder()
                .status(200)
                .header("content-type", "text/event-stream")
                .body(BodyExt::boxed(StreamBody::new(frames)))
                .unwrap()
        }
    })
}

/// Sends the parts; a send that fails, or a stall that ends, means the
/// client left (hyper drops the body when the connection goes).
async fn drive(parts: Vec<Part>, tx: mpsc::Sender<Result<Frame<Bytes>, std::io::Error>>, state: Arc<State>) {
    let left = |state: &State| {
        state.disconnects.lock().unwrap().push(Instant::now());
        state.disconnected.notify_waiters();
    };
    for part in parts {
        match part {
            Part::Bytes(b) => {
                if tx.send(Ok(Frame::data(Bytes::from(b)))).await.is_err() {
                    return left(&state);
                }
            }
            Part::Sleep(d) => tokio::time::sleep(d).await,
            Part::Abort => {
                let _ = tx.send(Err(std::io::Error::other("cut off by the test"))).await;
                return;
            }
            Part::Stall => {
                tx.closed().await;
                return left(&state);
            }
            Part::Drip(b, every) => loop {
                if tx.send(Ok(Frame::data(Bytes::from(b.clone())))).await.is_err() {
                    return left(&state);
                }
                tokio::select! {
                    _ = tx.closed() => return left(&state),
                    _ = tokio::time::sleep(every) => {}
                }
            },
        }
    }
}

/// A recorded transcript from the local LLM server (tests/fixtures/local-llm).
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/local-llm/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The first `n` events (blocks separated by a blank line) of a transcript.
pub fn first_events(transcript: &[u8], n: usize) -> Vec<u8> {
    let text = std::str::from_utf8(transcript).unwrap();
    let mut out = String::new();
    for block in text.split_inclusive("\n\n").take(n) {
        out.push_str(block);
    }
    out.into_bytes()
}
