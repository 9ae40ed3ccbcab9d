//! Every `--help` text, snapshotted, so that a change to one is seen in review; and the
//! completion scripts.

mod common;

use common::extkit;

/// The help of `extkit ARGS... --help`, at a fixed width.
fn help(args: &[&str]) -> String {
    let output = extkit()
        .env("COLUMNS", "100")
        .args(args)
        .arg("--help")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{args:?}");
    assert!(output.stderr.is_empty());
    String::from_utf8(output.stdout).unwrap()
}

/// The command names in a help text's `Commands:` section, without `help`.
fn commands_of(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|line| *line != "Commands:")
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .filter(|line| line.starts_with("  ") && !line.starts_with("   "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

/// Snapshots the help of a command and of each of its subcommands, depth first; gives every
/// command path it visited.
fn snapshot_all(path: &mut Vec<String>, visited: &mut Vec<String>) {
    let args: Vec<&str> = path.iter().map(String::as_str).collect();
    let text = help(&args);
    let name = if path.is_empty() {
        "extkit".to_string()
    } else {
        format!("extkit-{}", path.join("-"))
    };
    insta::assert_snapshot!(name.clone(), text);
    visited.push(name);
    for command in commands_of(&text) {
        path.push(command);
        snapshot_all(path, visited);
        path.pop();
    }
}

#[test]
fn every_help_text_is_as_reviewed() {
    let mut visited = Vec::new();
    snapshot_all(&mut Vec::new(), &mut visited);
    // Every command is reached, the store's own subcommands too.
    for name in [
        "extkit",
        "extkit-init",
        "extkit-build",
        "extkit-validate",
        "extkit-install",
        "extkit-store-check",
        "extkit-completions",
    ] {
        assert!(
            visited.iter().any(|v| v == name),
            "{name} not in {visited:?}"
        );
    }
}

#[test]
fn every_help_has_examples_and_exit_codes() {
    let top = help(&[]);
    let mut commands = vec![Vec::new()];
    for command in commands_of(&top) {
        let sub = help(&[&command]);
        for inner in commands_of(&sub) {
            commands.push(vec![command.clone(), inner]);
        }
        commands.push(vec![command]);
    }
    for path in commands {
        let args: Vec<&str> = path.iter().map(String::as_str).collect();
        let text = help(&args);
        assert!(
            text.contains("\nExamples:\n  extkit "),
            "{path:?} has no examples"
        );
        assert!(
            text.contains("\nExit codes: 0 "),
            "{path:?} has no exit codes"
        );
    }
}

#[test]
fn completions_for_bash_define_the_completion_function() {
    let output = extkit().args(["completions", "bash"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let script = String::from_utf8(output.stdout).unwrap();
    assert!(script.contains("_extkit()"), "{script}");
    assert!(script.contains("complete -F _extkit"), "{script}");
    // Subcommands are completed, the new ones too.
    assert!(script.contains("extkit,init)"), "{script}");
}

#[test]
fn completions_refuse_an_unknown_shell() {
    let output = extkit().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with("error: invalid value 'tcsh' for '<SHELL>'"),
        "{stderr}"
    );
}
