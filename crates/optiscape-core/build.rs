//! Which copy of the lab's lockstep block this build compiles (`lab::batch`): the block is
//! instantiated once per rule x surface x precision, about five hundred times, and each copy
//! takes minutes to optimize, so a build holds one.
//!
//! - `optiscape_avx2`: building for x86_64 on a CPU with AVX and AVX2 (the machine that will run
//!   it, as for `cargo run --release` and `pip install`): the copy compiled for AVX2 alone. On a
//!   CPU without AVX2 such a build runs each run through the general engine (the same numbers in
//!   f64, much more slowly).
//! - otherwise (another architecture, a CPU without AVX2, a cross build): the baseline copy.
//!
//! `OPTISCAPE_LANES=baseline` asks for the baseline copy on any machine (a build to be copied
//! to older x86_64 CPUs).
fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=OPTISCAPE_LANES");
    println!("cargo::rustc-check-cfg=cfg(optiscape_avx2)");
    let target_x86_64 = std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("x86_64");
    let baseline = std::env::var("OPTISCAPE_LANES").as_deref() == Ok("baseline");
    if target_x86_64 && !baseline && host_has_avx2() {
        println!("cargo::rustc-cfg=optiscape_avx2");
    }
}

#[cfg(target_arch = "x86_64")]
fn host_has_avx2() -> bool {
    std::arch::is_x86_feature_detected!("avx") && std::arch::is_x86_feature_detected!("avx2")
}

#[cfg(not(target_arch = "x86_64"))]
fn host_has_avx2() -> bool {
    false
}
