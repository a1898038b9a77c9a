//! 01: chat models and LLMs alone, and a prompt | LLM | parser chain.

use runwright::messages::{AIMessage, HumanMessage, Message};
use runwright::prompts::PromptTemplate;
use runwright::{
    FakeListChatModel, FakeListLLM, FakeStreamingListLLM, GenericFakeChatModel, Map, RunConfig, RunnableExt,
    StrOutputParser,
};

use super::common::{chunks, events, Calls};
use crate::record::Records;

const TEXT: &str = "The sky is blue.\nClouds  are white.";

pub(crate) async fn run() -> Records {
    let calls = Calls::of(1);
    let mut out = Records::default();
    let question = || "what color is the sky?".into();

    let case = "generic.astream";
    calls.start(&mut out, case);
    chunks(&mut out, case, &GenericFakeChatModel::new([TEXT]), question()).await;

    let case = "generic.astream_events";
    let call = calls.start(&mut out, case);
    events(&mut out, case, &call, &GenericFakeChatModel::new([TEXT]), question()).await;

    let case = "generic.fixed_id_trailing_space.astream_events";
    let call = calls.start(&mut out, case);
    let model = GenericFakeChatModel::from_messages([AIMessage::new("hello world ").with_id("ai-1")]);
    let input = vec![Message::from(HumanMessage::new("hi"))];
    events(&mut out, case, &call, &model, input.into()).await;

    let case = "fake_list_chat.astream";
    calls.start(&mut out, case);
    chunks(&mut out, case, &FakeListChatModel::new(["hello!"]), "hi".into()).await;

    let case = "fake_list_chat.astream_events";
    let call = calls.start(&mut out, case);
    events(&mut out, case, &call, &FakeListChatModel::new(["hello!"]), "hi".into()).await;

    let case = "fake_list_chat.with_run_name_tags_metadata.astream_events";
    let call = calls.start(&mut out, case);
    let model =
        FakeListChatModel::new(["ok"]).with_config(RunConfig::new().run_name("my_model").tag("t1").metadata("m", 1));
    events(&mut out, case, &call, &model, "hi".into()).await;

    let case = "fake_streaming_llm.astream";
    calls.start(&mut out, case);
    chunks(&mut out, case, &FakeStreamingListLLM::new(["abc"]), "hi".into()).await;

    let case = "fake_streaming_llm.astream_events";
    let call = calls.start(&mut out, case);
    events(&mut out, case, &call, &FakeStreamingListLLM::new(["abc"]), "hi".into()).await;

    let case = "fake_list_llm.astream_events";
    let call = calls.start(&mut out, case);
    events(&mut out, case, &call, &FakeListLLM::new(["abc"]), "hi".into()).await;

    let case = "prompt_fake_streaming_llm_parser.astream_events";
    let call = calls.start(&mut out, case);
    let prompt = PromptTemplate::from_template("say {word}").expect("valid template");
    let chain = prompt | FakeStreamingListLLM::new(["abc"]) | StrOutputParser;
    let mut input = Map::new();
    input.insert("word".into(), "abc".into());
    events(&mut out, case, &call, &chain, input).await;

    out
}
