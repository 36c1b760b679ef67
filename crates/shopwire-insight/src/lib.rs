//! What Shopwire reads into messages and trends, shared by the worker and the admin CLI:
//! the intent classifier, the LLM client both use, and trend scoring (docs/contract.md §3
//! "Messages", "Trends"). No queue consumers here: the worker runs [`trends::score_all`] as
//! its `trends` job, and the CLI runs it in its own process.

pub mod classify;
pub mod llm;
pub mod trends;
