//! Output parsers and the JSON machinery behind them.
//!
//! * [`partial_json`]: LangChain's `parse_partial_json` / `parse_json_markdown`,
//!   for short strings such as tool-call arguments.
//! * [`json_stream`]: an incremental parser that yields the same partial values
//!   as LangChain's streaming `JsonOutputParser`, in linear time.

// `Elements` and `Members` do not implement `Debug` yet.
#[allow(missing_debug_implementations)]
pub mod json_stream;
mod model_output;
pub mod partial_json;
mod str_parser;

pub use model_output::ModelOutput;
pub use str_parser::StrOutputParser;
mod json_parser;

pub use json_parser::{JsonOutputParser, JsonPatchOutputParser};
