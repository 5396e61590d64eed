//! Share by link from the command line: `optiscape link` and `--link` make a link and a
//! scenario file interchangeable; a damaged link is one line (the command) or the notebook's
//! scene with a message (the sandbox).

mod common;
use common::{TempFile, run, stderr, stdout};
use optiscape_core::scenario::{Scenario, builtin};

fn link_of(input: &str) -> String {
    let o = run(&["link", input]);
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o).trim().to_string()
}

#[test]
fn a_link_and_a_scenario_file_are_interchangeable() {
    for b in builtin() {
        let link = link_of(b.name);
        assert!(link.starts_with("s1.") && !link.contains(char::is_whitespace));
        // The link's file is the scenario, field for field.
        let o = run(&[
            "link",
            "--ron",
            &format!("https://example.org/optiscape/#{link}"),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let back = Scenario::parse(&stdout(&o), "back").unwrap();
        assert_eq!(
            back,
            Scenario::load_or_builtin(b.name).unwrap(),
            "{}",
            b.name
        );
        // And that file makes the same link.
        let file = TempFile::new("back.ron", &stdout(&o));
        assert_eq!(link_of(file.path()), link, "{}", b.name);
    }
}

#[test]
fn a_file_with_every_field_round_trips_through_its_link() {
    let text = r##"(
        version: 1,
        description: "every field",
        surface: (name: "rastrigin", params: {"a": 7.5}, domain: (x0: -4.0, x1: 3.5, y0: -2.0, y1: 5.0), instance: 3),
        display: (colormap: "terrain", resolution: 80, exaggeration: 0.5, contours: false, contour_levels: 4,
                  wireframe: true, trails: false, gradient_arrows: true, update_arrows: true, labels: true, axes: false),
        methods: [(id: "nadam", color: "#ff8800", params: {"lr": 0.02, "betas": (0.85, 0.995)}), (id: "sgd", enabled: false)],
        starts: Random(k: 17, region: Some((x0: -1.0, x1: 1.0, y0: -1.0, y1: 1.0))),
        steps: 777,
        speed: 12.5,
        seed: 42,
        camera: Some((yaw: 1.25, pitch: 0.5, radius: 22.0, focus: (0.5, 1.0, -0.5))),
    )"##;
    let file = TempFile::new("every.ron", text);
    let link = link_of(file.path());
    let o = run(&["link", "--ron", &link]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        Scenario::parse(&stdout(&o), "back").unwrap(),
        Scenario::parse(text, "every").unwrap()
    );
}

#[test]
fn a_damaged_link_is_one_line() {
    let good = link_of("notebook");
    for bad in [
        "s1.".to_string(),
        "nothing".to_string(),
        good[..good.len() - 5].to_string(),
        good.replacen("s1.", "s1.A", 1),
        format!("{good}x"),
    ] {
        let o = run(&["link", "--ron", &bad]);
        assert_eq!(o.status.code(), Some(2), "{bad}");
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("optiscape: error: "), "{err}");
    }
    // A file that is not a scenario makes no link.
    let o = run(&["link", "no-such-file.ron"]);
    assert_eq!(o.status.code(), Some(2));
}
