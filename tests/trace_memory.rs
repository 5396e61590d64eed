//! `optiscape trace` streams: a 20-million-update trace starts printing at once and stays in
//! bounded memory. A test binary of its own, so that the peak resident size of this process's
//! children is the trace's alone.

use std::process::Command;

/// The largest resident size of the finished children of this process, in KiB.
fn children_peak_rss_kib() -> u64 {
    // SAFETY: getrusage writes into the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    assert_eq!(rc, 0);
    usage.ru_maxrss as u64
}

#[test]
fn a_long_trace_streams_in_bounded_memory() {
    use std::io::{BufRead, BufReader};
    // 20 million updates: about 1.3 GB of CSV, which the old trace held twice in memory.
    let mut child = Command::new(env!("CARGO_BIN_EXE_optiscape"))
        .args([
            "trace",
            "--format",
            "csv",
            "--surface",
            "bowl",
            "--methods",
            "sgd",
        ])
        .args(["--set", "lr=0.01", "--steps", "20000000"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::with_capacity(1 << 20, child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "update,x,y,loss,evals,grads\n");
    let (mut rows, mut last) = (0u64, String::new());
    loop {
        line.clear();
        if out.read_line(&mut line).unwrap() == 0 {
            break;
        }
        rows += 1;
        if rows == 1 {
            // Printing starts at once, long before the run ends.
            assert!(line.starts_with("0,"), "{line}");
        }
        if line.starts_with("20000000,") {
            last = line.clone();
        }
    }
    assert!(child.wait().unwrap().success());
    assert_eq!(rows, 20_000_001);
    assert!(!last.is_empty());
    let peak = children_peak_rss_kib();
    assert!(peak < 200 * 1024, "peak resident size {peak} KiB");
}
