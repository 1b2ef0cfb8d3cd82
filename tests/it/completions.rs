//! `ebhook completions` and `ebhook man`: generated from the command definitions, and usable
//! by the shell and by `man`.

use std::process::Command;

fn ebhook(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ebhook"))
        .args(args)
        .output()
        .expect("run ebhook");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn completions_for_every_shell_name_the_subcommands() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let (code, out, err) = ebhook(&["completions", shell]);
        assert_eq!(code, 0, "{shell}: {err}");
        for sub in ["init", "logs", "rotate-secret", "completions"] {
            assert!(out.contains(sub), "{shell} completions lack {sub}");
        }
    }
    let (code, _, err) = ebhook(&["completions", "tcsh"]);
    assert_eq!(code, 2, "{err}");
}

/// Installed as bash loads them, the completions complete: `ebhook lo<TAB>` gives `logs`, and
/// `ebhook logs --fo<TAB>` gives `--follow`.
#[test]
fn bash_completes_subcommands_and_options() {
    let (_, script, _) = ebhook(&["completions", "bash"]);
    let dir = std::env::temp_dir().join(format!("ebhook-completions-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("ebhook.bash");
    std::fs::write(&file, script).unwrap();
    // As bash calls a completion function: the command, the word being completed and the one
    // before it.
    let complete = |words: &str, cword: usize| {
        let out = Command::new("bash")
            .arg("--norc")
            .arg("-c")
            .arg(format!(
                "source '{}'; COMP_WORDS=({words}); COMP_CWORD={cword}; \
                 COMP_LINE='{words}'; COMP_POINT=${{#COMP_LINE}}; \
                 _ebhook ebhook \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
                 printf '%s\\n' \"${{COMPREPLY[@]}}\"",
                file.display()
            ))
            .output()
            .expect("bash");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let subcommands = complete("ebhook lo", 1);
    assert_eq!(subcommands.lines().collect::<Vec<_>>(), ["logs"]);
    let options = complete("ebhook logs --fo", 2);
    assert!(options.lines().any(|l| l == "--follow"), "{options}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn man_pages_cover_every_command() {
    let (code, all, err) = ebhook(&["man"]);
    assert_eq!(code, 0, "{err}");
    assert!(all.contains(".TH ebhook 1"), "{all}");
    let dir = std::env::temp_dir().join(format!("ebhook-man-{}", std::process::id()));
    let (code, _, err) = ebhook(&["man", "--out-dir", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    for page in [
        "ebhook",
        "ebhook-init",
        "ebhook-logs",
        "ebhook-status",
        "ebhook-completions",
    ] {
        let path = dir.join(format!("{page}.1"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.contains(&format!(".TH {page} 1")), "{page}: {text}");
    }
    // Each page renders as `man` shows it, where man is installed.
    if Command::new("man").arg("--version").output().is_ok() {
        let out = Command::new("man")
            .arg("-l")
            .arg(dir.join("ebhook-logs.1"))
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "100")
            .output()
            .unwrap();
        let shown = String::from_utf8_lossy(&out.stdout);
        assert!(shown.contains("ebhook-logs"), "{shown}");
        assert!(shown.contains("--follow"), "{shown}");
    }
    std::fs::remove_dir_all(&dir).ok();
}
