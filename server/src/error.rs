//! The error answers: a status and `{"detail": "..."}`, as FastAPI (and so
//! LangServe) shapes its `HTTPException`s.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// A request the server refuses, or a run that failed before anything was
/// sent.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    detail: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            detail: detail.into(),
        }
    }

    /// LangServe's answer to a request it cannot validate.
    pub(crate) fn invalid(detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, detail)
    }

    /// The same error, its message starting with where in the request it
    /// is (`inputs[2]`).
    pub(crate) fn prefixed(self, at: &str) -> Self {
        ApiError {
            status: self.status,
            detail: format!("{at}: {}", self.detail),
        }
    }

    /// A run that failed. Its message, which may hold what a client must
    /// not see (a step deep in the run refusing its own input, a provider's
    /// answer), stays on the server, as LangServe keeps it: the client's
    /// own mistakes are found before the run starts (the input's type, the
    /// input schema's required keys).
    pub(crate) fn from_run(_error: &runwright::Error) -> Self {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(serde_json::json!({ "detail": self.detail }))).into_response()
    }
}
