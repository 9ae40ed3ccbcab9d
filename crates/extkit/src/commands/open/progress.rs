//! Progress bars for registry transfers, on stderr.

use std::collections::HashMap;
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// One bar per blob being uploaded or downloaded.
pub struct Bars {
    all: MultiProgress,
    bars: Mutex<HashMap<(String, &'static str), ProgressBar>>,
}

impl Bars {
    /// Bars drawn on stderr (indicatif hides them when it is not a terminal).
    pub fn new() -> Self {
        Bars {
            all: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: Mutex::new(HashMap::new()),
        }
    }
}

impl extkit_registry::Progress for Bars {
    fn begin(&self, digest: &str, size: u64, action: &'static str) {
        let style = ProgressStyle::with_template(
            "{prefix} [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec}",
        )
        .expect("the template is valid")
        .progress_chars("=> ");
        let short = digest.strip_prefix("sha256:").unwrap_or(digest);
        let bar = self.all.add(ProgressBar::new(size));
        bar.set_style(style);
        bar.set_prefix(format!("{action} {}", &short[..short.len().min(12)]));
        let mut bars = self.bars.lock().expect("no thread panics holding the bars");
        bars.insert((digest.to_string(), action), bar);
    }

    fn advance(&self, digest: &str, action: &'static str, bytes: u64) {
        let bars = self.bars.lock().expect("no thread panics holding the bars");
        if let Some(bar) = bars.get(&(digest.to_string(), action)) {
            bar.inc(bytes);
        }
    }

    fn end(&self, digest: &str, action: &'static str) {
        let mut bars = self.bars.lock().expect("no thread panics holding the bars");
        if let Some(bar) = bars.remove(&(digest.to_string(), action)) {
            bar.finish_and_clear();
        }
    }
}
