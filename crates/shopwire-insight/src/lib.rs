//! What Shopwire reads into messages, shared by the worker and the admin CLI: the intent
//! classifier and the LLM client it uses (docs/contract.md §3 "Messages").

pub mod classify;
pub mod llm;
