//! Fuzzes the `signature` parser family; what it does with the input is in `../harness.rs`.
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::signature(data));
