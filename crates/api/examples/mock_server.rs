//! The mock API server as a process, for benchmarks and trying the CLI without a provider:
//!
//! ```sh
//! cargo run --release -p neglect-api --example mock_server -- [--latency-ms 200] [--faults] [--key VAR]
//! ```
//!
//! Prints `http://127.0.0.1:PORT` on its first line (OpenAI base URL: that plus `/v1`), then
//! serves until stdin closes, and prints its counters: requests, most in flight at once.

use std::io::BufRead;
use std::time::Duration;

use neglect_api::mock::{Fault, MockOptions, MockServer};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut options = MockOptions::default();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--latency-ms" => {
                i += 1;
                let ms: u64 = args[i].parse().expect("--latency-ms takes milliseconds");
                options.latency = Duration::from_millis(ms);
            }
            // One request in 4 fails first with a 500, then a dropped connection.
            "--faults" => {
                options.faults = vec![Fault::ServerError, Fault::DropConnection];
                options.fault_every = 4;
            }
            "--key" => {
                i += 1;
                options.api_key = Some(std::env::var(&args[i]).expect("--key names a variable"));
            }
            other => panic!("unknown flag {other}"),
        }
        i += 1;
    }
    let server = MockServer::start(options).expect("binding 127.0.0.1");
    println!("{}", server.anthropic_base_url());
    for _ in std::io::stdin().lock().lines() {}
    let stats = server.stats();
    println!(
        "requests {} max_in_flight {} repeated_answers {}",
        stats.requests,
        stats.max_in_flight,
        stats.repeated_answers()
    );
}
