//! Progress bars on a terminal (hidden when stderr is not a terminal) and Ctrl-C handling.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use indicatif::{ProgressBar, ProgressStyle};

/// A byte-based progress bar for reading a file of `total` bytes.
pub fn bytes_bar(total: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{msg} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
}

/// A bar for the stages of a run (`link`'s and `index create`'s), counting each stage's items;
/// hidden when stderr is not a terminal.
pub fn stage_bar() -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{msg:12} [{bar:30}] {human_pos}/{human_len} eta {eta}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// A flag set by Ctrl-C; the run stops at the next chunk and removes its partial outputs.
pub fn cancel_flag() -> Arc<AtomicBool> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let f = Arc::clone(&flag);
        // If a handler cannot be installed, Ctrl-C simply ends the process as usual; partial
        // outputs then stay under their hidden temporary names, never under the final ones.
        let _ = ctrlc::set_handler(move || f.store(true, Ordering::SeqCst));
        flag
    })
    .clone()
}
