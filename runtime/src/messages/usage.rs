//! [`UsageMetadata`]: token counts of a model call.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::value::{Chunk, Map};

/// Token counts of a model call (LangChain's `UsageMetadata`). Chunks' counts
/// add up field by field, details included.
///
/// ```
/// use runwright::{Chunk, UsageMetadata};
/// let mut usage = UsageMetadata::new(10, 2);
/// usage.concat(UsageMetadata::new(0, 3));
/// assert_eq!((usage.input_tokens, usage.output_tokens, usage.total_tokens), (10, 5, 15));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UsageMetadata {
    /// Input (prompt) tokens.
    #[serde(default)]
    pub input_tokens: u64,
    /// Output (completion) tokens.
    #[serde(default)]
    pub output_tokens: u64,
    /// All tokens.
    #[serde(default)]
    pub total_tokens: u64,
    /// A breakdown of the input tokens (`audio`, `cache_read`,
    /// `cache_creation`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_token_details: Option<Map>,
    /// A breakdown of the output tokens (`audio`, `reasoning`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_token_details: Option<Map>,
}

impl UsageMetadata {
    /// Counts with `total_tokens = input_tokens + output_tokens`.
    pub fn new(input_tokens: u64, output_tokens: u64) -> Self {
        UsageMetadata {
            input_tokens,
            output_tokens,
            total_tokens: input_tokens.saturating_add(output_tokens),
            ..Default::default()
        }
    }
}

/// LangChain's `add_usage`: every count adds up, nested details too.
impl Chunk for UsageMetadata {
    fn concat(&mut self, next: Self) {
        self.input_tokens = self.input_tokens.saturating_add(next.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(next.output_tokens);
        self.total_tokens = self.total_tokens.saturating_add(next.total_tokens);
        add_details(&mut self.input_token_details, next.input_token_details);
        add_details(&mut self.output_token_details, next.output_token_details);
    }
}

fn add_details(left: &mut Option<Map>, right: Option<Map>) {
    match (left.as_mut(), right) {
        (Some(l), Some(r)) => add_counts(l, r),
        (None, Some(r)) => *left = Some(r),
        (_, None) => {}
    }
}

/// `_dict_int_op(left, right, add)`: missing and `null` counts are 0, nested
/// objects recurse. Values that are neither (Python raises) keep the left one.
fn add_counts(left: &mut Map, right: Map) {
    for (k, r) in right {
        let l = left.entry(k).or_insert(Json::Null);
        match (l, r) {
            (l @ Json::Null, Json::Null) => *l = Json::from(0),
            (_, Json::Null) => {}
            (l @ Json::Null, r) => *l = r,
            (Json::Number(a), Json::Number(b)) => {
                if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
                    *a = x.saturating_add(y).into();
                }
            }
            (Json::Object(a), Json::Object(b)) => add_counts(a, b),
            _ => {}
        }
    }
}
