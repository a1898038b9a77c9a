//! [`ToolSpec`]: what a model is told about a tool (name, description, JSON
//! schema of the arguments), and how the schema is built.

use schemars::generate::{SchemaGenerator, SchemaSettings};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{json, Value as Json};

use crate::value::Map;

/// A type a tool argument can have: one with a JSON schema (`schemars`'
/// `JsonSchema`) that deserializes from JSON (`serde`'s `Deserialize`).
///
/// Implemented for every such type. For your own, [`#[tool_arg]`](crate::tool_arg)
/// derives both through runwright (no `serde` or `schemars` dependency
/// needed):
///
/// ```
/// #[runwright::tool_arg]
/// struct Address {
///     /// Street and number.
///     street: String,
///     zip: String,
/// }
/// fn takes<T: runwright::tools::ToolArg>() {}
/// takes::<Address>();
/// ```
///
/// Deriving them yourself works too, with `serde` and `schemars` (1.x) as
/// dependencies of your crate: `#[derive(serde::Deserialize,
/// schemars::JsonSchema)]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a tool argument: it has no JSON schema or does not deserialize",
    label = "this argument's type needs `schemars::JsonSchema` and `serde::Deserialize`",
    note = "put `#[runwright::tool_arg]` on the type: it derives both through runwright"
)]
pub trait ToolArg: JsonSchema + DeserializeOwned + Send + 'static {}

// Not recommended: a failure then says what a tool argument needs, rather
// than which of the two traits is missing under which path.
#[diagnostic::do_not_recommend]
impl<T: JsonSchema + DeserializeOwned + Send + 'static> ToolArg for T {}

/// One argument of a tool, as its [`ToolSpec`] describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolArgSpec {
    name: String,
    description: Option<String>,
    required: bool,
    expected: String,
}

impl ToolArgSpec {
    /// The argument's name (a property of the schema).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its description, from the function's doc comment.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// Whether a call must give it. An argument whose type accepts `null`
    /// (an `Option<T>`) may be left out, and is then `None`.
    pub fn is_required(&self) -> bool {
        self.required
    }

    /// The expected JSON type in words (`string`, `array of integer`,
    /// `one of "celsius", "fahrenheit"`), as validation errors say it.
    pub fn expected(&self) -> &str {
        &self.expected
    }
}

/// What a model is told about a tool: its name, its description, and the
/// JSON schema of its arguments, in the shape OpenAI's and Anthropic's tool
/// definitions take: `{"type": "object", "properties": {...}, "required":
/// [...], "additionalProperties": false}`. Argument types are described
/// inline (a type that contains itself is referenced through `$defs`).
///
/// `#[tool]` builds one per tool (once, on first use); by hand:
///
/// ```
/// use runwright::tools::ToolSpec;
/// use serde_json::json;
///
/// let spec = ToolSpec::builder("get_weather", "Current weather of a city.")
///     .arg::<String>("city", Some("the city"))
///     .arg::<Option<u8>>("days", None)
///     .build();
/// assert_eq!(
///     spec.parameters(),
///     &json!({
///         "type": "object",
///         "properties": {
///             "city": {"type": "string", "description": "the city"},
///             "days": {"type": ["integer", "null"], "minimum": 0, "maximum": 255}
///         },
///         "required": ["city"],
///         "additionalProperties": false
///     })
/// );
/// assert_eq!(spec.to_openai()["function"]["name"], "get_weather");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ToolSpec {
    name: String,
    description: String,
    parameters: Json,
    args: Vec<ToolArgSpec>,
}

impl ToolSpec {
    /// Starts the spec of a tool named `name`.
    pub fn builder(name: impl Into<String>, description: impl Into<String>) -> ToolSpecBuilder {
        let settings = SchemaSettings::draft2020_12().with(|s| {
            s.inline_subschemas = true;
            s.meta_schema = None;
        });
        ToolSpecBuilder {
            spec: ToolSpec {
                name: name.into(),
                description: description.into(),
                parameters: Json::Null,
                args: Vec::new(),
            },
            generator: settings.into_generator(),
            properties: Map::new(),
        }
    }

    /// The tool's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the tool does, for the model.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The JSON schema of the arguments.
    pub fn parameters(&self) -> &Json {
        &self.parameters
    }

    /// The arguments, in order.
    pub fn args(&self) -> &[ToolArgSpec] {
        &self.args
    }

    /// The argument named `name`.
    pub fn arg(&self, name: &str) -> Option<&ToolArgSpec> {
        self.args.iter().find(|a| a.name == name)
    }

    /// The OpenAI chat-completions tool definition:
    /// `{"type": "function", "function": {"name", "description", "parameters"}}`.
    pub fn to_openai(&self) -> Json {
        json!({
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            }
        })
    }

    /// The Anthropic messages tool definition: `{"name", "description", "input_schema"}`.
    pub fn to_anthropic(&self) -> Json {
        json!({
            "name": self.name,
            "description": self.description,
            "input_schema": self.parameters,
        })
    }

    /// The schema of the argument `name`, as the model is told it.
    pub(crate) fn arg_schema(&self, name: &str) -> Option<&Json> {
        self.parameters.get("properties")?.get(name)
    }

    /// `schema`, or the definition it refers to (`{"$ref": "#/$defs/Node"}`:
    /// a type that contains itself). A reference that leads nowhere stays
    /// as it is (a schema with no type).
    pub(crate) fn resolve<'s>(&'s self, schema: &'s Json) -> &'s Json {
        let mut schema = schema;
        // A definition may itself be a reference; a cycle of them is
        // followed a bounded number of times.
        for _ in 0..8 {
            let target = schema
                .get("$ref")
                .and_then(Json::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"))
                .and_then(|name| self.parameters.get("$defs")?.get(name));
            match target {
                Some(t) => schema = t,
                None => break,
            }
        }
        schema
    }

    /// The schema of what `step` leads to inside a value `schema` describes:
    /// an object's property (or its `additionalProperties`, a map's values),
    /// an array's items (or a tuple's `prefixItems`), looked up through
    /// references and through the alternatives of `anyOf`/`oneOf`/`allOf`
    /// (the first that has it). `None` when the schema does not say.
    pub(crate) fn child_schema<'s>(&'s self, schema: &'s Json, step: SchemaStep<'_>) -> Option<&'s Json> {
        self.child_schema_within(schema, step, 0)
    }

    fn child_schema_within<'s>(&'s self, schema: &'s Json, step: SchemaStep<'_>, depth: u8) -> Option<&'s Json> {
        // Alternatives nest only as deep as types do; the bound guards
        // against a hand-written schema whose definitions refer to each
        // other without end.
        if depth > 32 {
            return None;
        }
        let schema = self.resolve(schema);
        let alternatives = ["anyOf", "oneOf", "allOf"]
            .iter()
            .filter_map(|k| schema.get(*k).and_then(Json::as_array))
            .flatten();
        let direct = match step {
            SchemaStep::Key(key) => schema
                .get("properties")
                .and_then(|p| p.get(key))
                .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object())),
            SchemaStep::Index(i) => schema
                .get("prefixItems")
                .and_then(|p| p.get(i))
                .or_else(|| schema.get("items").filter(|a| a.is_object())),
        };
        direct.or_else(|| {
            let mut alternatives = alternatives;
            alternatives.find_map(|alt| self.child_schema_within(alt, step, depth + 1))
        })
    }

    /// `` `city` (string), `days` (integer or null) ``: the arguments, for
    /// error messages.
    pub(crate) fn signature(&self) -> String {
        if self.args.is_empty() {
            return "no arguments".into();
        }
        self.args
            .iter()
            .map(|a| format!("`{}` ({})", a.name, a.expected))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One step into a JSON value: an object's key or an array's index.
#[derive(Clone, Copy, Debug)]
pub(crate) enum SchemaStep<'a> {
    Key(&'a str),
    Index(usize),
}

/// Builds a [`ToolSpec`] one argument at a time.
#[must_use = "a builder does nothing until `build` is called"]
pub struct ToolSpecBuilder {
    spec: ToolSpec,
    generator: SchemaGenerator,
    properties: Map,
}

/// Shows the spec so far; the schema generator has nothing to show.
impl std::fmt::Debug for ToolSpecBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolSpecBuilder")
            .field("spec", &self.spec)
            .field("properties", &self.properties)
            .finish_non_exhaustive()
    }
}

impl ToolSpecBuilder {
    /// Adds an argument of type `T`. It is required unless `T` accepts
    /// `null` (an `Option`). The description, if any, replaces the one the
    /// type's own doc comment gives.
    pub fn arg<T: ToolArg>(mut self, name: &str, description: Option<&str>) -> Self {
        let mut schema = self.generator.subschema_for::<T>().to_value();
        tidy(&mut schema);
        if let (Some(d), Json::Object(o)) = (description, &mut schema) {
            o.insert("description".into(), Json::String(d.to_owned()));
        }
        let required = serde_json::from_value::<T>(Json::Null).is_err();
        let expected = describe(&schema);
        self.properties.insert(name.to_owned(), schema);
        self.spec.args.push(ToolArgSpec {
            name: name.to_owned(),
            description: description.map(str::to_owned),
            required,
            expected,
        });
        self
    }

    /// The finished spec.
    #[must_use]
    pub fn build(mut self) -> ToolSpec {
        let required: Vec<Json> = self
            .spec
            .args
            .iter()
            .filter(|a| a.required)
            .map(|a| Json::String(a.name.clone()))
            .collect();
        let mut parameters = Map::new();
        parameters.insert("type".into(), "object".into());
        parameters.insert("properties".into(), Json::Object(std::mem::take(&mut self.properties)));
        parameters.insert("required".into(), Json::Array(required));
        parameters.insert("additionalProperties".into(), Json::Bool(false));
        let mut defs = self.generator.take_definitions(true);
        if !defs.is_empty() {
            for d in defs.values_mut() {
                tidy(d);
            }
            parameters.insert("$defs".into(), Json::Object(defs));
        }
        self.spec.parameters = Json::Object(parameters);
        self.spec
    }
}

/// Removes what providers do not expect in a tool schema: Rust's integer and
/// float widths (`"format": "int32"`, not a JSON Schema format) and the
/// titles schemars gives inlined types. Recurses into subschemas.
fn tidy(schema: &mut Json) {
    match schema {
        Json::Object(o) => {
            let numeric_format = matches!(
                o.get("format").and_then(Json::as_str),
                Some(
                    "int8"
                        | "int16"
                        | "int32"
                        | "int64"
                        | "int128"
                        | "uint"
                        | "uint8"
                        | "uint16"
                        | "uint32"
                        | "uint64"
                        | "uint128"
                        | "int"
                        | "float"
                        | "double"
                )
            );
            if numeric_format {
                o.remove("format");
            }
            o.remove("title");
            for (k, v) in o.iter_mut() {
                // A property may be called "title" or "format": only schema
                // keywords are tidied, not the names under "properties".
                if k == "properties" || k == "$defs" {
                    if let Json::Object(props) = v {
                        props.values_mut().for_each(tidy);
                    }
                } else {
                    tidy(v);
                }
            }
        }
        Json::Array(a) => a.iter_mut().for_each(tidy),
        _ => {}
    }
}

/// The JSON type a schema accepts, in words.
pub(crate) fn describe(schema: &Json) -> String {
    let Json::Object(o) = schema else {
        return if schema == &Json::Bool(false) {
            "nothing".into()
        } else {
            "any value".into()
        };
    };
    if let Some(Json::Array(values)) = o.get("enum") {
        let values: Vec<String> = values.iter().map(Json::to_string).collect();
        return format!("one of {}", values.join(", "));
    }
    if let Some(c) = o.get("const") {
        return c.to_string();
    }
    if let Some(Json::Array(alts)) = o.get("anyOf").or_else(|| o.get("oneOf")) {
        let alts: Vec<String> = alts.iter().map(describe).collect();
        return alts.join(" or ");
    }
    if o.contains_key("$ref") {
        return "object".into();
    }
    let one = |t: &str| -> String {
        match (t, o.get("items")) {
            ("array", Some(items)) => format!("array of {}", describe(items)),
            _ => t.to_owned(),
        }
    };
    match o.get("type") {
        Some(Json::String(t)) => one(t),
        Some(Json::Array(ts)) => ts
            .iter()
            .filter_map(Json::as_str)
            .map(one)
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "any value".into(),
    }
}

/// What anything that can be bound to a chat model as a tool gives: its
/// [`ToolSpec`]. Implemented by [`Tool`](super::Tool) and by `ToolSpec`
/// itself (a tool the model may call that runs elsewhere).
pub trait AsToolSpec {
    /// The tool's spec.
    fn tool_spec(&self) -> &ToolSpec;
}

impl AsToolSpec for ToolSpec {
    fn tool_spec(&self) -> &ToolSpec {
        self
    }
}
