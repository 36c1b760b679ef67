//! Fault injection against real services (docs/contract.md §4, §8.1, §8.4): the real worker binary
//! SIGKILLed mid-drain, a flushed Redis prefix, a private Postgres restarted under the web,
//! a poison delivery among good ones, and a flood of hostile requests.

mod faults {
    mod bodies;
    mod hostile;
    mod outbound_kills;
    mod pg_restart;
    mod poison;
    mod private_pg;
    mod redis_flush;
    mod support;
    mod web;
    mod worker_kills;
    mod worker_process;
}
