//! Which copies of the lab's lockstep block this build compiles (`lab::batch`): the block is
//! instantiated once per rule x surface x precision, about five hundred times, and each copy
//! takes minutes to optimize, so a build holds one copy per lane type.
//!
//! - `optiscape_avx2`: building for x86_64 on a CPU with AVX and AVX2 (the machine that will run
//!   it, as for `cargo run --release` and `pip install`): the copy compiled for AVX2.
//! - `optiscape_avx512` as well, on a CPU with AVX-512 (F, DQ, VL, BW): f64 runs on compiled
//!   surfaces take eight lanes in a copy compiled for AVX-512; formulas and f32 keep the AVX2
//!   copy.
//! - otherwise (another architecture, a CPU without AVX2, a cross build): the baseline copy.
//!
//! A build with either run on a CPU without those features runs each run through the general
//! engine (the same numbers in f64, much more slowly). `OPTISCAPE_LANES` chooses for a build
//! to be copied to other machines: `baseline` (any x86_64 CPU) or `avx2` (no AVX-512).
fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=OPTISCAPE_LANES");
    println!("cargo::rustc-check-cfg=cfg(optiscape_avx2)");
    println!("cargo::rustc-check-cfg=cfg(optiscape_avx512)");
    let target_x86_64 = std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("x86_64");
    let asked = std::env::var("OPTISCAPE_LANES").unwrap_or_default();
    let ceiling = match asked.as_str() {
        "" => 2,
        "baseline" => 0,
        "avx2" => 1,
        other => {
            println!(
                "cargo::warning=OPTISCAPE_LANES={other:?} is not one of baseline, avx2 \
                 (unset: the best this CPU runs); building the best this CPU runs"
            );
            2
        }
    };
    let level = if target_x86_64 { host_level() } else { 0 }.min(ceiling);
    if level >= 1 {
        println!("cargo::rustc-cfg=optiscape_avx2");
    }
    if level >= 2 {
        println!("cargo::rustc-cfg=optiscape_avx512");
    }
}

/// 0: neither; 1: AVX and AVX2; 2: AVX-512 F, DQ, VL and BW as well.
#[cfg(target_arch = "x86_64")]
fn host_level() -> u8 {
    use std::arch::is_x86_feature_detected as has;
    if !(has!("avx") && has!("avx2")) {
        0
    } else if has!("avx512f") && has!("avx512dq") && has!("avx512vl") && has!("avx512bw") {
        2
    } else {
        1
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn host_level() -> u8 {
    0
}
