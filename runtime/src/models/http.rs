//! What the HTTP providers share: the [`ApiKey`] that never shows, the
//! transport settings, a streaming POST with retries and timeouts, and the
//! [`ProviderError`] every failure carries.
//!
//! Retries happen only before an answer starts: on a failed connection, a
//! response head that does not come within the first-byte timeout, and HTTP
//! 408, 409, 429 and 5xx. Once a stream has begun, its chunks may already be
//! with the caller, so a failure ends the stream with an error instead.

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use serde_json::Value as Json;
use tokio::time::Instant;

use super::provider_error::{chain, snippet, ErrorWithoutUrl, ProviderError};
use crate::error::{Error, ErrorKind, Result};
use crate::runnable::backoff::{Attempt, Backoff};

/// An API key. It is sent in a request header and shown nowhere else: its
/// `Debug` output is redacted, and it has no `Display` and no `Serialize`.
///
/// ```
/// use runwright::models::ApiKey;
/// let key = ApiKey::new("sk-secret");
/// assert_eq!(format!("{key:?}"), "ApiKey(<redacted>)");
/// ```
#[derive(Clone)]
pub struct ApiKey(Arc<str>);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(Arc::from(key.into()))
    }

    /// The key in the environment variable `var`, if it is set and not empty.
    pub(crate) fn from_env(var: &str) -> Option<Self> {
        std::env::var(var)
            .ok()
            .map(|k| k.trim().to_owned())
            .filter(|k| !k.is_empty())
            .map(ApiKey::new)
    }

    /// The header value `{prefix}{key}`, marked sensitive so that the HTTP
    /// stack never prints it.
    fn header_value(&self, prefix: &str) -> Result<HeaderValue> {
        let mut value = HeaderValue::from_str(&format!("{prefix}{}", self.0)).map_err(|_| {
            Error::new(
                ErrorKind::Usage,
                "the API key contains characters a header cannot carry",
            )
        })?;
        value.set_sensitive(true);
        Ok(value)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl From<&str> for ApiKey {
    fn from(key: &str) -> Self {
        ApiKey::new(key)
    }
}

impl From<String> for ApiKey {
    fn from(key: String) -> Self {
        ApiKey::new(key)
    }
}

/// How a provider takes its key.
#[derive(Clone, Copy, Debug)]
pub(crate) enum AuthHeader {
    /// `Authorization: Bearer <key>` (OpenAI).
    #[cfg(feature = "openai")]
    Bearer,
    /// `x-api-key: <key>` (Anthropic).
    #[cfg(feature = "anthropic")]
    XApiKey,
}

/// Where and how a provider is reached: base URL, key, extra headers,
/// timeouts, retries, and the HTTP client (the user's, or one built on
/// first use and shared by clones).
#[derive(Clone, Debug)]
pub(crate) struct Transport {
    pub(crate) provider: &'static str,
    pub(crate) base_url: String,
    pub(crate) api_key: Option<ApiKey>,
    pub(crate) auth: AuthHeader,
    /// Sent with every request, after (so over) the provider's own headers.
    /// Their values are marked sensitive: an `api-key` set here shows in no
    /// `Debug` output, as an [`ApiKey`] does not.
    extra_headers: HeaderMap,
    pub(crate) connect_timeout: Duration,
    pub(crate) first_byte_timeout: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) max_retries: u32,
    pub(crate) backoff: Backoff,
    client: Arc<OnceLock<Result<reqwest::Client>>>,
    /// Set by [`Transport::use_client`]: then `client` is never rebuilt.
    user_client: bool,
}

impl Transport {
    /// The defaults: connect within 10 s, first byte within 120 s (a long
    /// prompt takes a while), at most 60 s between two pieces of a stream,
    /// 2 retries 0.5 s apart doubling up to 8 s.
    pub(crate) fn new(provider: &'static str, base_url: String, api_key: Option<ApiKey>, auth: AuthHeader) -> Self {
        Transport {
            provider,
            base_url,
            api_key,
            auth,
            extra_headers: HeaderMap::new(),
            connect_timeout: Duration::from_secs(10),
            first_byte_timeout: Duration::from_secs(120),
            idle_timeout: Duration::from_secs(60),
            max_retries: 2,
            backoff: Backoff {
                initial: Duration::from_millis(500),
                max: Duration::from_secs(8),
                jitter: true,
            },
            client: Arc::default(),
            user_client: false,
        }
    }

    /// Forgets the HTTP client built from the settings, so the next request
    /// builds one with the current ones. A client the user gave stays.
    pub(crate) fn settings_changed(&mut self) {
        if !self.user_client {
            self.client = Arc::default();
        }
    }

    /// Sends every request through `client` from now on.
    pub(crate) fn use_client(&mut self, client: reqwest::Client) {
        self.client = Arc::new(OnceLock::from(Ok(client)));
        self.user_client = true;
    }

    /// Adds a header to every request; a name or value HTTP does not allow
    /// is an [`ErrorKind::Usage`] error naming the header.
    pub(crate) fn add_header(&mut self, name: &str, value: &str) -> Result<()> {
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Error::new(ErrorKind::Usage, format!("`{name}` is not a valid HTTP header name")))?;
        let value = HeaderValue::from_str(value).map_err(|_| {
            Error::new(
                ErrorKind::Usage,
                format!("the value of the HTTP header `{name}` contains characters a header cannot carry"),
            )
        })?;
        self.add_headers(HeaderMap::from_iter([(header, value)]));
        Ok(())
    }

    /// Adds headers to every request, each replacing any earlier one of its
    /// name.
    pub(crate) fn add_headers(&mut self, headers: HeaderMap) {
        replace_all(&mut self.extra_headers, &headers);
        for value in self.extra_headers.values_mut() {
            value.set_sensitive(true);
        }
    }

    fn client(&self) -> Result<reqwest::Client> {
        self.client.get_or_init(|| build_client(self.connect_timeout)).clone()
    }

    /// The headers every request carries: the provider's `extra`, the key,
    /// and the user's headers (which win over the others).
    pub(crate) fn headers(&self, extra: &[(&'static str, &'static str)]) -> Result<HeaderMap> {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(reqwest::header::ACCEPT, HeaderValue::from_static("text/event-stream"));
        for (name, value) in extra {
            headers.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
        }
        if let Some(key) = &self.api_key {
            match self.auth {
                #[cfg(feature = "openai")]
                AuthHeader::Bearer => headers.insert(reqwest::header::AUTHORIZATION, key.header_value("Bearer ")?),
                #[cfg(feature = "anthropic")]
                AuthHeader::XApiKey => headers.insert(HeaderName::from_static("x-api-key"), key.header_value("")?),
            };
        }
        replace_all(&mut headers, &self.extra_headers);
        Ok(headers)
    }

    /// POSTs `body` to `path` and returns the response once its head says
    /// 2xx and it is an event stream, retrying what may be retried.
    pub(crate) async fn post_stream(&self, path: &str, headers: HeaderMap, body: &Json) -> Result<OpenStream> {
        let url = format!("{}{}", self.base_url.trim_end_matches('/'), path);
        let endpoint = endpoint_of(&url);
        let client = self.client()?;
        let body = Bytes::from(serde_json::to_vec(body)?);
        let (url, endpoint, client, headers, body) = (&url, &endpoint, &client, &headers, &body);
        let attempt = |attempt: u32| async move {
            let deadline = Instant::now() + self.first_byte_timeout;
            let request = client.post(url).headers(headers.clone()).body(body.clone());
            let (failure, retry_after) = match tokio::time::timeout_at(deadline, request.send()).await {
                Ok(Ok(response)) if response.status().is_success() => {
                    return match self.check_event_stream(response, endpoint).await {
                        Ok(response) => Attempt::Done(OpenStream {
                            response,
                            first_byte_deadline: deadline,
                            idle_timeout: self.idle_timeout,
                            provider: self.provider,
                            endpoint: endpoint.clone(),
                        }),
                        Err(e) => Attempt::Fail(e.with_attempts(attempt)),
                    };
                }
                Ok(Ok(response)) => {
                    let status = response.status().as_u16();
                    let retry_after = retry_after(response.headers());
                    let body = read_limited(response, self.idle_timeout).await;
                    (
                        ProviderError::from_http(self.provider, endpoint, status, &body),
                        retry_after,
                    )
                }
                Ok(Err(e)) => (
                    ProviderError::from_transport(self.provider, endpoint, &e, self.connect_timeout),
                    None,
                ),
                Err(_) => (
                    ProviderError::new(
                        self.provider,
                        endpoint,
                        ErrorKind::Timeout,
                        format!(
                            "no response from {endpoint} within {:?} (first-byte timeout)",
                            self.first_byte_timeout
                        ),
                    ),
                    None,
                ),
            };
            let mut failure = failure.with_attempts(attempt);
            failure.retry_after = retry_after;
            if failure.retryable() {
                Attempt::Retry(failure, retry_after)
            } else {
                Attempt::Fail(failure)
            }
        };
        self.backoff
            .run(self.max_retries.saturating_add(1), attempt)
            .await
            .map_err(ProviderError::into_error)
    }

    /// A 2xx answer that is not an event stream (a JSON error body, or a
    /// server that ignored `stream: true`) is an error, not an empty stream.
    async fn check_event_stream(
        &self,
        response: reqwest::Response,
        endpoint: &str,
    ) -> std::result::Result<reqwest::Response, ProviderError> {
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if content_type.is_empty() || content_type.starts_with("text/event-stream") {
            return Ok(response);
        }
        let status = response.status().as_u16();
        let body = read_limited(response, self.idle_timeout).await;
        let json: Option<Json> = serde_json::from_slice(&body).ok();
        if let Some(error) = json.as_ref().and_then(|j| j.get("error")) {
            return Err(ProviderError::from_error_object(
                self.provider,
                endpoint,
                Some(status),
                error,
            ));
        }
        Err(ProviderError::new(
            self.provider,
            endpoint,
            ErrorKind::Protocol,
            format!(
                "expected an event stream from {endpoint}, got `{content_type}`: {}",
                snippet(&body)
            ),
        ))
    }
}

/// Puts the headers of `from` into `into`, each name's values replacing
/// the ones `into` had.
fn replace_all(into: &mut HeaderMap, from: &HeaderMap) {
    for name in from.keys() {
        into.remove(name);
        for value in from.get_all(name) {
            into.append(name.clone(), value.clone());
        }
    }
}

/// A [`reqwest::ClientBuilder`] set up as the providers' own client is:
/// rustls with the `ring` provider and the platform's root certificates,
/// HTTP/1.1, no overall timeout (a stream lasts as long as it lasts; the
/// providers' first-byte and idle timeouts bound it). Add what you need
/// (a proxy, default headers, a connect timeout), build it and give it to
/// a provider's `http_client`.
///
/// runwright's reqwest brings no rustls crypto provider of its own (the
/// default one is a long C build), so a bare `reqwest::Client::builder()`
/// finds none unless your program installs one
/// (`rustls::crypto::ring::default_provider().install_default()`) or
/// depends on reqwest with its default features. For your own certificate
/// authorities, build a `rustls::ClientConfig` and hand it to
/// [`tls_backend_preconfigured`](reqwest::ClientBuilder::tls_backend_preconfigured),
/// which replaces the TLS set up here.
///
/// ```no_run
/// use runwright::models::{http_client_builder, reqwest, ChatOpenAI};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let client = http_client_builder()?
///     .proxy(reqwest::Proxy::https("http://proxy.internal:3128")?)
///     .build()?;
/// let model = ChatOpenAI::new("gpt-4o-mini").http_client(client);
/// # let _ = model; Ok(()) }
/// ```
pub fn http_client_builder() -> Result<reqwest::ClientBuilder> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::new(ErrorKind::Usage, format!("TLS setup failed: {e}")))?;
    let tls = match rustls_platform_verifier::Verifier::new(provider) {
        Ok(verifier) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth(),
        // No usable system roots: plain HTTP (a local server) still works,
        // and an HTTPS handshake fails as untrusted.
        Err(_) => builder
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth(),
    };
    Ok(reqwest::Client::builder().tls_backend_preconfigured(tls))
}

/// The client a provider builds when none is given.
fn build_client(connect_timeout: Duration) -> Result<reqwest::Client> {
    http_client_builder()?
        .connect_timeout(connect_timeout)
        .build()
        .map_err(|e| Error::new(ErrorKind::Usage, format!("HTTP client setup failed: {}", chain(&e))))
}

/// An answer that has begun: its body, read with [`body_chunks`].
pub(crate) struct OpenStream {
    response: reqwest::Response,
    first_byte_deadline: Instant,
    idle_timeout: Duration,
    provider: &'static str,
    endpoint: String,
}

impl OpenStream {
    /// The body's pieces as they arrive. The first must come before the
    /// first-byte deadline, each next one within the idle timeout; a timeout
    /// or a broken connection is the last item. Dropping the stream drops
    /// the response, which closes the connection.
    pub(crate) fn body_chunks(self) -> impl Stream<Item = Result<Bytes>> + Send {
        let OpenStream {
            response,
            first_byte_deadline,
            idle_timeout,
            provider,
            endpoint,
        } = self;
        futures::stream::unfold(Some((response, true, 0usize)), move |state| {
            let endpoint = endpoint.clone();
            async move {
                let (mut response, first, received) = state?;
                let next = if first {
                    tokio::time::timeout_at(first_byte_deadline, response.chunk()).await
                } else {
                    tokio::time::timeout(idle_timeout, response.chunk()).await
                };
                let fail = |kind, message| {
                    Some((
                        Err(ProviderError::new(provider, &endpoint, kind, message).into_error()),
                        None,
                    ))
                };
                match next {
                    Ok(Ok(Some(bytes))) => {
                        let received = received + bytes.len();
                        Some((Ok(bytes), Some((response, first && received == 0, received))))
                    }
                    Ok(Ok(None)) => None,
                    Ok(Err(e)) => fail(
                        ErrorKind::Connection,
                        format!(
                            "the connection to {endpoint} dropped mid-stream after {received} bytes: {}",
                            chain(&ErrorWithoutUrl(&e))
                        ),
                    ),
                    Err(_) if first => fail(
                        ErrorKind::Timeout,
                        format!("no data from {endpoint} before the first-byte timeout"),
                    ),
                    Err(_) => fail(
                        ErrorKind::Timeout,
                        format!("no data from {endpoint} for {idle_timeout:?} (idle timeout) after {received} bytes"),
                    ),
                }
            }
        })
    }
}

/// Reads at most 64 KiB of an error body, giving up after `timeout`.
async fn read_limited(mut response: reqwest::Response, timeout: Duration) -> Vec<u8> {
    const LIMIT: usize = 64 * 1024;
    let mut body = Vec::new();
    let read = async {
        while let Ok(Some(piece)) = response.chunk().await {
            body.extend_from_slice(&piece);
            if body.len() >= LIMIT {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(timeout, read).await;
    body.truncate(LIMIT);
    body
}

/// `Retry-After` (seconds) or OpenAI's `retry-after-ms`. An HTTP date is
/// not read: the backoff applies then.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|n| n.is_finite() && *n >= 0.0)
    };
    if let Some(ms) = number("retry-after-ms") {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    number(RETRY_AFTER.as_str()).map(Duration::from_secs_f64)
}

/// The URL as errors show it: no user, password or query (where keys hide
/// on some deployments).
fn endpoint_of(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        Err(_) => "(an invalid URL)".into(),
    }
}

// The transport as OpenAI uses it: run with the `openai` feature.
#[cfg(all(test, feature = "openai"))]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn retry_after_reads_seconds_and_milliseconds() {
        assert_eq!(
            retry_after(&headers(&[("retry-after", "2")])),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", "2"), ("retry-after-ms", "150")])),
            Some(Duration::from_millis(150))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")])),
            None
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "-1")])), None);
    }

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        let mut t = Transport::new("openai", "http://x".into(), None, AuthHeader::Bearer);
        t.backoff.initial = Duration::from_millis(100);
        t.backoff.max = Duration::from_millis(300);
        for _ in 0..50 {
            let first = t.backoff.delay(1);
            assert!(
                first >= Duration::from_millis(100) && first <= Duration::from_millis(125),
                "{first:?}"
            );
            let second = t.backoff.delay(2);
            assert!(second >= Duration::from_millis(200) && second <= Duration::from_millis(250));
            assert_eq!(t.backoff.delay(3), Duration::from_millis(300));
        }
    }

    #[test]
    fn endpoints_lose_credentials_and_query() {
        assert_eq!(
            endpoint_of("https://user:pw@example.com/v1/chat/completions?api-key=k"),
            "https://example.com/v1/chat/completions"
        );
    }

    #[test]
    #[cfg(feature = "openai")]
    fn api_key_is_redacted_everywhere_it_could_show() {
        let key = ApiKey::new("sk-sentinel-123");
        assert!(!format!("{key:?}").contains("sentinel"));
        let t = Transport::new("openai", "http://x".into(), Some(key), AuthHeader::Bearer);
        assert!(!format!("{t:?}").contains("sentinel"));
        let h = t.headers(&[]).unwrap();
        assert!(h["authorization"].is_sensitive());
        assert!(!format!("{h:?}").contains("sentinel"));
    }

    #[test]
    #[cfg(feature = "anthropic")]
    fn extra_headers_win_are_redacted_and_bad_ones_are_named() {
        let mut t = Transport::new("anthropic", "http://x".into(), None, AuthHeader::XApiKey);
        t.add_header("anthropic-version", "2099-01-01").unwrap();
        t.add_header("api-key", "azure-sentinel").unwrap();
        let h = t.headers(&[("anthropic-version", "2023-06-01")]).unwrap();
        assert_eq!(
            h.get_all("anthropic-version").iter().collect::<Vec<_>>(),
            ["2099-01-01"]
        );
        assert_eq!(h["api-key"], "azure-sentinel");
        assert!(!format!("{t:?}").contains("azure-sentinel"));

        let e = t.add_header("Bad Name", "v").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Usage);
        assert!(e.to_string().contains("`Bad Name`"), "{e}");
        let e = t.add_header("X-Title", "two\nlines").unwrap_err();
        assert!(e.to_string().contains("`X-Title`"), "{e}");
    }
}
