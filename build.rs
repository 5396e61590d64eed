//! The desktop program on Linux x86-64 is linked as a position-dependent executable
//! (`-no-pie`): its half a million relative relocations (Bevy's and egui's tables of function
//! pointers) are then resolved when it is linked, not each time it starts. Starting took about
//! 9 ms, 5 of them spent relocating; a lab command that runs for a tenth of a second pays that
//! every time (see docs/benchmarks.md, "The lab against JAX"). Tests and other targets are
//! linked as before.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    if var("CARGO_CFG_TARGET_OS") == "linux" && var("CARGO_CFG_TARGET_ARCH") == "x86_64" {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
