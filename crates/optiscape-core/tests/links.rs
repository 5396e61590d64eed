//! Share by link: every field of a scenario survives the link, every shipped scenario does,
//! and anything malformed or tampered with is one line of text, never a panic.

use optiscape_core::link::{PREFIX, decode, encode};
use optiscape_core::scenario::{Scenario, builtin};
use proptest::prelude::*;

/// A scenario with every field away from its default.
const FULL: &str = r##"(
    version: 1,
    description: "Every field: a teacher's exact experiment",
    surface: (
        formula: "a*sin(x)*cos(y) + 0.1*(x^2 + y^2)",
        params: {"a": 1.5},
        domain: (x0: -5.5, x1: 4.25, y0: -3.0, y1: 6.125),
        rotate: 33.75,
    ),
    display: (
        colormap: "viridis",
        resolution: 96,
        exaggeration: 1.75,
        contours: false,
        contour_levels: 7,
        wireframe: true,
        trails: false,
        gradient_arrows: true,
        update_arrows: true,
        labels: true,
        axes: false,
    ),
    methods: [
        (id: "adam", color: "#12ab34", params: {"lr": 0.0375, "betas": (0.8, 0.9995), "steps_per_frame": 3}),
        (id: "rmsprop", params: {"centered": true, "momentum": 0.5}),
        (id: "seed:momentum", enabled: false),
        (id: "langevin", params: {"noise": 0.25, "clip": 2.0}),
    ],
    starts: Points([(-1.25, 2.5), (3.0, -2.875), (0.1, 0.2)]),
    steps: 1234,
    speed: 47.5,
    seed: 987654321,
    camera: Some((yaw: 0.625, pitch: -0.4375, radius: 17.25, focus: (1.5, -0.25, 2.0))),
)"##;

#[test]
fn every_field_of_a_scenario_survives_the_link() {
    let sc = Scenario::parse(FULL, "full").unwrap();
    let link = encode(&sc).unwrap();
    assert!(link.starts_with(PREFIX));
    assert!(
        link[PREFIX.len()..]
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'),
        "{link}"
    );
    assert_eq!(decode(&link).unwrap(), sc);
    // As a fragment, in a whole address, with spaces around.
    assert_eq!(decode(&format!("#{link}")).unwrap(), sc);
    assert_eq!(
        decode(&format!("  https://example.org/optiscape/?v=2#{link}\n")).unwrap(),
        sc
    );
    // Compact: the scenario's text is larger than its link.
    assert!(link.len() < sc.to_ron().unwrap().len(), "{}", link.len());
    // A change in any field changes the link.
    let mut other = sc.clone();
    other.seed += 1;
    assert_ne!(encode(&other).unwrap(), link);
}

#[test]
fn random_starts_and_instances_survive_the_link() {
    let text = FULL
        .replace(
            "starts: Points([(-1.25, 2.5), (3.0, -2.875), (0.1, 0.2)]),",
            "starts: Random(k: 40, region: Some((x0: -1.0, x1: 1.0, y0: 0.0, y1: 2.0))),",
        )
        .replace("rotate: 33.75,", "instance: 7,");
    let sc = Scenario::parse(&text, "random").unwrap();
    assert_eq!(decode(&encode(&sc).unwrap()).unwrap(), sc);
}

#[test]
fn every_shipped_scenario_survives_the_link() {
    for b in builtin() {
        let sc = Scenario::load_or_builtin(b.name).unwrap();
        let link = encode(&sc).unwrap();
        assert_eq!(decode(&link).unwrap(), sc, "{}", b.name);
        // Short enough to paste anywhere.
        assert!(link.len() < 700, "{}: {} characters", b.name, link.len());
    }
}

#[test]
fn malformed_links_are_one_line_each() {
    let good = encode(&Scenario::load_or_builtin("notebook").unwrap()).unwrap();
    let cases = [
        String::new(),
        "#".into(),
        "https://example.org/".into(),
        "s2.AAAA".into(),
        "s1.".into(),
        "s1.!!!!".into(),
        "s1.A".into(),
        good[..good.len() / 2].to_string(),
        format!("{good}AAAA"),
        good.replace(PREFIX, "s1.x"),
        format!("s1.{}", "A".repeat(70_000)),
        // Valid base64 and deflate, but not a scenario.
        format!(
            "s1.{}",
            encode_raw(b"(version: 1, surface: (name: \"nowhere\"), methods: [])")
        ),
        format!("s1.{}", encode_raw(b"not ron at all")),
        format!("s1.{}", encode_raw(&[0xff, 0xfe, 0x00])),
    ];
    for c in cases {
        let e = decode(&c).unwrap_err();
        assert!(!e.is_empty() && !e.contains('\n'), "{c:?}: {e}");
    }
    // A bomb: 2 MiB of spaces in a few kilobytes.
    let bomb = format!("s1.{}", encode_raw(&vec![b' '; 2 << 20]));
    assert!(bomb.len() < 20_000);
    let e = decode(&bomb).unwrap_err();
    assert!(e.contains("too large"), "{e}");
}

/// A raw payload as a link would carry it (deflate + URL-safe base64), for tampering.
fn encode_raw(data: &[u8]) -> String {
    let packed = miniz_oxide::deflate::compress_to_vec_zlib(data, 6);
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in packed.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_text_decodes_or_is_refused(text in ".{0,300}") {
        let _ = decode(&text);
    }

    #[test]
    fn tampered_links_never_panic(at in 0usize..400, c in 0u8..64, cut in 0usize..400) {
        let good = encode(&Scenario::parse(FULL, "full").unwrap()).unwrap();
        let mut bytes = good.into_bytes();
        let at = PREFIX.len() + at % (bytes.len() - PREFIX.len());
        bytes[at] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[c as usize];
        let cut = cut.min(bytes.len());
        let text = String::from_utf8(bytes[..bytes.len() - cut / 8].to_vec()).unwrap();
        if let Ok(sc) = decode(&text) {
            // Whatever decodes is a valid scenario.
            prop_assert!(sc.validate().is_ok());
        }
    }
}
