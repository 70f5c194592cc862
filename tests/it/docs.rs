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

/// A command line split as a POSIX shell splits it, for the quoting the docs use: single
/// and double quotes, no escapes.
fn words(line: &str) -> Vec<String> {
    let (mut words, mut word, mut quote, mut started) = (Vec::new(), String::new(), None, false);
    for c in line.chars() {
        match (quote, c) {
            (None, '\'' | '"') => (quote, started) = (Some(c), true),
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            (_, c) => (word.push(c), started = true).0,
        }
    }
    if started {
        words.push(word);
    }
    words
}

/// The command lines of the README's `sh` blocks, comments left out.
fn readme_commands() -> Vec<Vec<String>> {
    let readme = std::fs::read_to_string(tests::root().join("README.md")).unwrap();
    let mut commands = Vec::new();
    let mut in_sh = false;
    for line in readme.lines() {
        match line.trim() {
            "```sh" => in_sh = true,
            "```" => in_sh = false,
            text if in_sh && !text.is_empty() && !text.starts_with('#') => {
                commands.push(words(text));
            }
            _ => {}
        }
    }
    commands
}

/// The README's commands as a newcomer runs them, in order: the mock from the first one
/// (on a free port instead of 8080), then each other command against it; `cargo run -p X
/// --` is the binary the workspace built, a load runs 2 s instead of its 10, and `curl` is
/// sent with reqwest (its `-X`, `-H` and `-d`). Each must succeed.
#[test]
fn the_readme_commands_run_as_written() {
    let commands = readme_commands();
    let tool = |command: &[String]| -> Option<(String, Vec<String>)> {
        let at = command.iter().position(|w| w == "--")?;
        let package = command.iter().position(|w| w == "-p")? + 1;
        (command.first()? == "cargo")
            .then(|| (command[package].clone(), command[at + 1..].to_vec()))
    };
    // The two commands of the quick start (the main job and the tests) are what CI runs.
    let ours: Vec<&Vec<String>> = commands
        .iter()
        .filter(|c| {
            tool(c).is_some_and(|(_, args)| args.iter().any(|a| a == "--spec")) || c[0] == "curl"
        })
        .collect();
    assert!(ours.len() >= 4, "{commands:?}");
    let (package, args) = tool(ours[0]).unwrap();
    assert_eq!(package, "mock-api");
    // Run from the repository's root, as the README is: its relative paths are from there.
    let rooted = |word: &String| match word.starts_with("tests/") {
        true => tests::root().join(word).to_string_lossy().into_owned(),
        false => word.clone(),
    };
    let args: Vec<String> = args.iter().map(rooted).collect();
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    let port = args.iter().position(|a| *a == "--port").unwrap();
    args.drain(port..port + 2);
    let (mut mock, url) = tests::spawn_mock(&args, std::process::Stdio::null());
    let free = url
        .trim_start_matches("http://127.0.0.1:")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    for command in &ours[1..] {
        let command: Vec<String> = command
            .iter()
            .map(|w| w.replace(":8080/", &format!(":{free}/")))
            .map(|w| if w == "10s" { "2s".to_owned() } else { w })
            .map(|w| rooted(&w))
            .collect();
        if command[0] == "curl" {
            let flag = |name: &str| {
                command
                    .iter()
                    .position(|w| w == name)
                    .map(|at| command[at + 1].clone())
            };
            let target = command.iter().find(|w| w.starts_with("http")).unwrap();
            let method =
                reqwest::Method::from_bytes(flag("-X").unwrap_or("GET".into()).as_bytes()).unwrap();
            let status = tokio::runtime::Runtime::new().unwrap().block_on(async {
                let mut request = reqwest::Client::new().request(method, target);
                for (at, word) in command.iter().enumerate() {
                    if word == "-H" {
                        let (name, value) = command[at + 1].split_once(':').unwrap();
                        request = request.header(name.trim(), value.trim());
                    }
                }
                if let Some(body) = flag("-d") {
                    request = request.body(body);
                }
                request.send().await.unwrap().status()
            });
            assert!(status.is_success(), "{command:?}: {status}");
            continue;
        }
        let (package, mut args) = tool(&command).unwrap();
        if package == "loadgen" {
            args.extend(["--no-telnet", "--quiet"].map(str::to_owned));
        }
        let output = Command::new(tests::binary(&package))
            .args(&args)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{package} {args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    mock.kill().unwrap();
    mock.wait().unwrap();
}

#[test]
fn command_lines_split_as_a_shell_splits_them() {
    assert_eq!(
        words(r#"curl -H 'A: b c' -d '{"x": 1}'  end"#),
        ["curl", "-H", "A: b c", "-d", r#"{"x": 1}"#, "end"]
    );
    assert_eq!(words("a '' b"), ["a", "", "b"]);
}
