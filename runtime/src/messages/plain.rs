//! [`HumanMessage`] and [`SystemMessage`]: the two messages that carry only
//! content, written once.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::{message_basics, serialize_common, Content, LazyMap};

macro_rules! plain_message {
    ($(#[$doc:meta])* $name:ident, $variant:ident, $example:literal) => {
        $(#[$doc])*
        ///
        #[doc = concat!("JSON: `{\"type\": \"", stringify!($name), "\", \"content\", \"name\"?, \"id\"?, \"additional_kwargs\"?, \"response_metadata\"?}`.")]
        ///
        /// ```
        #[doc = concat!("use runwright::", stringify!($name), ";")]
        #[doc = concat!("let m = ", stringify!($name), "::new(\"", $example, "\").with_id(\"m1\");")]
        /// assert_eq!(
        ///     serde_json::to_value(&m).unwrap(),
        #[doc = concat!("    serde_json::json!({\"type\": \"", stringify!($name), "\", \"content\": \"", $example, "\", \"id\": \"m1\"})")]
        /// );
        /// ```
        #[derive(Clone, Debug, Default, PartialEq)]
        #[non_exhaustive]
        pub struct $name {
            /// What the message says.
            pub content: Content,
            /// An optional name of the speaker.
            pub name: Option<String>,
            /// An optional unique id.
            pub id: Option<String>,
            /// Extra provider-specific data.
            pub additional_kwargs: LazyMap,
            /// Response metadata (headers, model name, ...).
            pub response_metadata: LazyMap,
        }

        impl $name {
            /// A message with this content.
            pub fn new(content: impl Into<Content>) -> Self {
                $name {
                    content: content.into(),
                    ..Default::default()
                }
            }

            $crate::messages::message_methods!();
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(None)?;
                serialize_common(
                    &mut m,
                    stringify!($name),
                    &self.content,
                    &self.name,
                    &self.id,
                    &self.additional_kwargs,
                    &self.response_metadata,
                )?;
                m.end()
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name::new(s)
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                $name::new(s)
            }
        }

        message_basics!($name, $variant, stringify!($name));
    };
}

plain_message!(
    /// A message from the user (LangChain's `HumanMessage`).
    HumanMessage,
    Human,
    "hi"
);

plain_message!(
    /// Instructions for the model, usually the first message (LangChain's
    /// `SystemMessage`).
    SystemMessage,
    System,
    "You are terse."
);
