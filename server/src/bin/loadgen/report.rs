//! What the run measured, printed.
use crate::Options;
use crate::session::{Follow, Record};

/// The `p`th percentile of sorted milliseconds (the docs benchmark's, in microseconds).
pub fn pct(sorted: &[f64], p: f64) -> f64 {
    let micros: Vec<u128> = sorted.iter().map(|ms| (ms * 1000.0) as u128).collect();
    server::docs::eval::percentile(&micros, p) as f64 / 1000.0
}

/// Prints the figures; returns how many runs ended.
pub fn print(o: &Options, r: &Record, elapsed: f64, peak_kib: u64) -> usize {
    let model = o.model;
    println!(
        "loadgen: {} sessions, a question every {} s each for {} s; model {} ms + {} tokens × {} ms",
        o.sessions,
        o.every,
        o.seconds,
        model.latency.as_millis(),
        model.tokens,
        model.token.as_millis()
    );
    println!(
        "{:<52} {:>8} {:>9} {:>9} {:>9}",
        "route", "requests", "p50 ms", "p99 ms", "max ms"
    );
    let mut total = 0;
    for (route, times) in &r.routes {
        let mut t = times.clone();
        t.sort_by(f64::total_cmp);
        total += t.len();
        println!(
            "{route:<52} {:>8} {:>9.1} {:>9.1} {:>9.1}",
            t.len(),
            pct(&t, 50.0),
            pct(&t, 99.0),
            t.last().copied().unwrap_or(0.0)
        );
    }
    println!("throughput: {:.1} requests/s", total as f64 / elapsed);
    if r.errors.is_empty() {
        println!("errors: none");
    }
    for (what, n) in &r.errors {
        println!("errors: {what}: {n}");
    }
    let mut runs = r.runs.clone();
    runs.sort_by(f64::total_cmp);
    let model_ms = model.time().as_secs_f64() * 1000.0;
    let seen = match o.follow {
        Follow::Poll(every) => format!(
            "followed by polls every {} s, so the end is seen up to that late",
            every.as_secs_f64()
        ),
        Follow::Events => "followed by the event stream".to_string(),
    };
    println!(
        "runs: {} ended; end to end p50 {:.0} ms, p99 {:.0} ms (model {:.0} ms; {seen})",
        runs.len(),
        pct(&runs, 50.0),
        pct(&runs, 99.0),
        model_ms
    );
    println!(
        "server overhead (end to end minus model time): p50 {:.0} ms, p99 {:.0} ms",
        pct(&runs, 50.0) - model_ms,
        pct(&runs, 99.0) - model_ms
    );
    println!("runs in flight at most: {}", r.most_in_flight);
    println!("server peak RSS: {} MiB", peak_kib / 1024);
    runs.len()
}
