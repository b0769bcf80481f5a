//! A terminal progress bar that engines drive through `scenario::Progress`.

use std::time::Duration;

/// A progress bar on stderr; hidden when stderr is not a terminal.
#[derive(Debug)]
pub struct ProgressBar {
    bar: indicatif::ProgressBar,
}

impl ProgressBar {
    /// A bar with a label (`"simulating"`) and a unit shown after the counts (`"s"`).
    pub fn new(label: &str, unit: &str) -> Self {
        let bar = indicatif::ProgressBar::new(0);
        let template = format!(
            "{{spinner}} {label:<12} [{{bar:40}}] {{pos}}/{{len}} {unit} ({{percent}}%, eta {{eta}})"
        );
        if let Ok(style) = indicatif::ProgressStyle::with_template(&template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.enable_steady_tick(Duration::from_millis(200));
        Self { bar }
    }

    /// Clears the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl scenario::Progress for ProgressBar {
    fn update(&mut self, done: u64, total: u64) {
        self.bar.set_length(total);
        self.bar.set_position(done);
    }
}
