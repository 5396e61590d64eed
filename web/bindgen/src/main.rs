//! `optiscape-web-bindgen MODULE.wasm OUT_DIR`: the wasm-bindgen step of `web/build.sh`, through
//! wasm-bindgen's own library (the command-line tool, `wasm-bindgen-cli`, also brings a test
//! runner with an HTTP client and TLS; this builds in a fraction of its time). Writes
//! `optiscape.js` and `optiscape_bg.wasm` for a page that loads them as an ES module, without
//! TypeScript declarations, the name section or the producers section.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, out] = args.as_slice() else {
        eprintln!("usage: optiscape-web-bindgen MODULE.wasm OUT_DIR");
        return ExitCode::from(2);
    };
    let mut bindgen = wasm_bindgen_cli_support::Bindgen::new();
    bindgen
        .input_path(input)
        .out_name("optiscape")
        .typescript(false)
        .remove_name_section(true)
        .remove_producers_section(true)
        .omit_default_module_path(false);
    match bindgen.web(true).and_then(|b| b.generate(out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("optiscape-web-bindgen: {e:#}");
            ExitCode::from(2)
        }
    }
}
