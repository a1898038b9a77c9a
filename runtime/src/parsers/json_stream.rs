//! Incremental JSON parsing with LangChain's partial semantics (in progress).
