//! The guides in `docs/` kept honest against the binaries: every option a binary's `--help`
//! lists is in its guide's options table, and every guide the README links to exists.

use std::process::Command;

/// The long options of a help text, with the section each is listed under.
fn options(help: &str) -> Vec<(String, String)> {
    let mut section = String::new();
    let mut found = Vec::new();
    for line in help.lines() {
        if !line.starts_with(' ') && line.ends_with(':') {
            section = line.trim_end_matches(':').to_owned();
            continue;
        }
        let trimmed = line.trim_start();
        // An option's own line: `-h, --help`, `--spec <FILE|URL>`, indented a little.
        if line.len() - trimmed.len() > 6 {
            continue;
        }
        let flag = trimmed
            .split([' ', ','])
            .find(|word| word.starts_with("--"))
            .map(|word| word.split(['=', '[']).next().unwrap_or(word));
        if let Some(flag) = flag
            && !["--help", "--version"].contains(&flag)
        {
            found.push((flag.to_owned(), section.clone()));
        }
    }
    found
}

fn help(binary: &str, args: &[&str]) -> String {
    let output = Command::new(tests::binary(binary))
        .args(args)
        .arg("--help")
        .output()
        .unwrap();
    assert!(output.status.success(), "{binary} {args:?} --help");
    String::from_utf8(output.stdout).unwrap()
}

/// The rows of a guide's options tables: the text of their first cells.
fn table_options(guide: &str) -> String {
    let text = std::fs::read_to_string(tests::root().join("docs").join(guide)).unwrap();
    text.lines()
        .filter(|line| line.starts_with("| `-"))
        .filter_map(|line| line.split('|').nth(1))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_option_of_each_binary_is_in_its_guide() {
    // (binary, subcommand, guide, only the options of these help sections; empty: all)
    let cases: [(&str, &[&str], &str, &[&str]); 4] = [
        ("mock-api", &[], "mock-api.md", &[]),
        ("contract", &["check"], "contract.md", &[]),
        // loadgen's own options; goose's follow in its help, most not in the guide.
        (
            "loadgen",
            &[],
            "loadgen.md",
            &["What to load", "Credentials"],
        ),
        ("loadgen", &["merge"], "loadgen.md", &[]),
    ];
    for (binary, args, guide, sections) in cases {
        let listed = table_options(guide);
        let options = options(&help(binary, args));
        assert!(options.len() >= 2, "{binary} {args:?}: {options:?}");
        let missing: Vec<&str> = options
            .iter()
            .filter(|(_, section)| sections.is_empty() || sections.contains(&section.as_str()))
            .map(|(flag, _)| flag.as_str())
            .filter(|flag| {
                !listed
                    .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                    .any(|word| word == *flag)
            })
            .collect();
        assert!(
            missing.is_empty(),
            "docs/{guide} has no row for {binary} {args:?} {missing:?}"
        );
    }
}

#[test]
fn the_readme_links_to_guides_that_exist() {
    let readme = std::fs::read_to_string(tests::root().join("README.md")).unwrap();
    let linked: Vec<&str> = readme
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .filter(|target| target.starts_with("docs/"))
        .collect();
    assert!(linked.len() >= 3, "{linked:?}");
    for target in linked {
        assert!(
            tests::root().join(target).is_file(),
            "README links to {target}"
        );
    }
}
