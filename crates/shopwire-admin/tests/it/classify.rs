//! `classify`: stdin lines in, JSON lines out, no database needed.

use std::process::Stdio;

use tokio::io::AsyncWriteExt;

#[tokio::test]
async fn classify_turns_stdin_lines_into_json_lines_without_a_database() {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_shopwire-admin"))
        .arg("classify")
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    stdin
        .write_all("I'll take 2\n¿tienes talla M?\n\nmy order never arrived 😡\n".as_bytes())
        .await
        .expect("stdin takes the lines");
    drop(stdin);
    let output = child.wait_with_output().await.expect("the binary finishes");
    let stdout = String::from_utf8(output.stdout).expect("stdout is UTF-8");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "stdout: {stdout} stderr: {stderr}");

    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is one JSON object"))
        .collect();
    let got: Vec<(&str, &str)> = lines
        .iter()
        .map(|l| {
            (
                l["text"].as_str().unwrap_or(""),
                l["intent"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("I'll take 2", "buy"),
            ("¿tienes talla M?", "question"),
            ("my order never arrived 😡", "complaint"),
        ]
    );
    for line in &lines {
        let score = line["score"].as_f64().expect("score is a number");
        assert!((0.0..=1.0).contains(&score), "{line}");
        assert_eq!(line.as_object().map(|o| o.len()), Some(3), "{line}");
    }
}

#[tokio::test]
async fn classify_reads_a_line_as_the_worker_does_capped_and_without_nul() {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_shopwire-admin"))
        .arg("classify")
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let long = format!("I'll take 2 {}", "ñandú ".repeat(1_000));
    let mut stdin = child.stdin.take().expect("stdin is piped");
    stdin
        .write_all(format!("mine\0 M\n{long}\n").as_bytes())
        .await
        .expect("stdin takes the lines");
    drop(stdin);
    let output = child.wait_with_output().await.expect("the binary finishes");
    let stdout = String::from_utf8(output.stdout).expect("stdout is UTF-8");
    assert!(output.status.success(), "stdout: {stdout}");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is one JSON object"))
        .collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert_eq!(lines[0]["text"], "mine\u{FFFD} M");
    assert_eq!(lines[0]["intent"], "buy");
    // Without the full environment, MESSAGE_MAX_CHARS's default: 2000 characters.
    let text = lines[1]["text"].as_str().expect("text");
    assert_eq!(text, long.chars().take(2000).collect::<String>());
    assert_eq!(lines[1]["intent"], "buy");
}
