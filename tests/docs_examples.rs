//! The docs match the program: every `optiscape ...` example in the README and the guide parses
//! with today's options (no old spelling), and where a doc shows an example's output right after
//! it, the program's output starts with the same header line.

mod common;
use common::{run, stderr, stdout};

/// The words of one shell command line (single and double quotes, no expansions).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// An example: the command's words, and the first line of the output block shown after it.
struct Example {
    file: &'static str,
    words: Vec<String>,
    shown_header: Option<String>,
}

/// Every `optiscape ...` command in the ```sh blocks of `file` (continuation lines joined;
/// comments dropped; placeholders such as `[--rotate 30 | --instance N]` skipped).
fn examples(file: &'static str) -> Vec<Example> {
    let text = std::fs::read_to_string(format!("{}/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<Example> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() != "```sh" {
            i += 1;
            continue;
        }
        i += 1;
        let mut in_block: Vec<Example> = Vec::new();
        let mut pending = String::new();
        while i < lines.len() && lines[i].trim() != "```" {
            let line = lines[i];
            i += 1;
            let (body, more) = match line.trim_end().strip_suffix('\\') {
                Some(b) => (b, true),
                None => (line, false),
            };
            pending.push_str(body);
            pending.push(' ');
            if more {
                continue;
            }
            let cmd = std::mem::take(&mut pending);
            let cmd = cmd
                .split(" # ")
                .next()
                .unwrap_or_default()
                .trim()
                .to_string();
            let Some(rest) = cmd.strip_prefix("optiscape ") else {
                continue;
            };
            if ["[", "|", "…", "...", "<", ">"]
                .iter()
                .any(|p| rest.contains(p))
            {
                continue;
            }
            in_block.push(Example {
                file,
                words: shell_words(rest),
                shown_header: None,
            });
        }
        i += 1;
        // An output block right after a block of one example shows what it prints.
        let mut j = i;
        while j < lines.len() && lines[j].trim().is_empty() {
            j += 1;
        }
        if in_block.len() == 1 && j < lines.len() && lines[j].trim() == "```" {
            in_block[0].shown_header = lines.get(j + 1).map(|l| l.trim_end().to_string());
        }
        out.extend(in_block);
    }
    out
}

#[test]
fn every_example_in_the_readme_and_the_guide_parses() {
    let all: Vec<Example> = ["README.md", "docs/guide.md", "docs/benchmarks.md"]
        .into_iter()
        .flat_map(examples)
        .collect();
    assert!(all.len() >= 15, "found only {} examples", all.len());
    for e in &all {
        let shown = e.words.join(" ");
        assert!(
            optiscape::cli::old_spelling(&e.words).is_none(),
            "{}: an old spelling in `optiscape {shown}`",
            e.file
        );
        let mut argv = vec!["optiscape".to_string()];
        argv.extend(e.words.iter().cloned());
        if let Err(err) = optiscape::cli::command().try_get_matches_from(&argv) {
            panic!("{}: `optiscape {shown}` does not parse: {err}", e.file);
        }
    }
}

#[test]
fn outputs_shown_in_the_docs_start_with_the_programs_header() {
    let mut checked = 0;
    for e in ["README.md", "docs/guide.md"]
        .into_iter()
        .flat_map(examples)
    {
        let Some(header) = &e.shown_header else {
            continue;
        };
        let words: Vec<&str> = e.words.iter().map(String::as_str).collect();
        let o = run(&words);
        assert!(o.status.success(), "{}: {words:?}: {}", e.file, stderr(&o));
        let out = stdout(&o);
        assert_eq!(
            out.lines().next().map(str::trim_end),
            Some(header.as_str()),
            "{}: `optiscape {}` prints another header than the doc shows",
            e.file,
            words.join(" ")
        );
        checked += 1;
    }
    assert!(checked >= 1, "no output shown after an example");
}
