//! 11 (held out): `stream_log` of the joke chain, as patches and as states,
//! with filters.

use futures::StreamExt;
use serde_json::json;

use runwright::{LogOptions, RunnableExt};

use super::common::{filter_of, Calls};
use super::s02_prompt_model_parser::{joke_chain, parrot};
use crate::record::Records;

pub(crate) async fn run() -> Records {
    let calls = Calls::of(11);
    let mut out = Records::default();
    for case in [
        "diff_true",
        "diff_false",
        "include_names=StrOutputParser",
        "include_types=chat_model",
        "include_types=llm",
        "include_tags=seq:step:2+exclude_names=StrOutputParser",
        "with_streamed_output_list=False",
    ] {
        let call = calls.start(&mut out, case);
        let kw = &call["kwargs"];
        let mut options = LogOptions::default().filter(filter_of(&call));
        if kw["diff"] == false {
            options = options.with_state();
        }
        if kw["with_streamed_output_list"] == false {
            options = options.without_streamed_output_list();
        }
        let chain = joke_chain();
        let mut log = chain.stream_log(parrot(), options.clone());
        while let Some(item) = log.next().await {
            match item {
                Ok(p) => match &p.state {
                    Some(state) => out.push(case, "log", json!({"n_ops": p.total_ops, "state": state})),
                    None => out.push(case, "patch", json!({ "ops": p.ops })),
                },
                Err(e) => out.error(case, &e),
            }
        }
    }
    out
}
