//! Output parsers and the JSON machinery behind them.
//!
//! * [`json_stream`]: an incremental parser that yields the same partial values
//!   as LangChain's streaming `JsonOutputParser`, in linear time.

pub mod json_stream;
mod model_output;
mod str_parser;

pub use model_output::ModelOutput;
pub use str_parser::StrOutputParser;
mod json_parser;

pub use json_parser::{JsonOutputParser, JsonPatchOutputParser};
