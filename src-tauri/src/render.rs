//! How the window's web view draws: in software, without WebKitGTK's accelerated compositing, unless
//! the user asks for the GPU path.
//!
//! Why: the console is tables, forms and a virtualized list of up to 100,000 rows; it gains nothing
//! from GPU compositing, and where there is no usable GPU (virtual machines, remote desktops, Xvfb —
//! where WebKitGTK falls back to Mesa's software OpenGL) compositing costs a lot. Measured on the
//! 2-core test VM under Xvfb with 100,000 orders (docs/benchmarks.md, "Console window"): with
//! compositing the web process held ~96 MiB more on the start screen and ~50 MiB more again once the
//! order board was open (tiles of the 3.6-million-pixel-tall list), and a state filter took ~210 ms
//! instead of ~55 ms. Turning compositing off is WebKitGTK's documented switch,
//! `WEBKIT_DISABLE_COMPOSITING_MODE=1`, read by the web process when it starts; it has to be in the
//! environment before the first web view exists, hence an environment variable set at start-up
//! rather than a per-view setting changed after the page began loading.
//!
//! `TOPUP_DESK_GPU=1` keeps WebKitGTK's default (accelerated compositing); a value the user already
//! gave `WEBKIT_DISABLE_COMPOSITING_MODE` is left as it is. Other platforms' web views (WebView2,
//! WKWebView) choose for themselves; nothing is changed there.

/// Chooses the rendering mode. Call first thing in `main`, before any thread is started (it sets an
/// environment variable) and before the window is created.
pub fn choose() {
    #[cfg(target_os = "linux")]
    if let Some((key, value)) = linux_env(|k| std::env::var_os(k)) {
        // Safe here: called from `main` before the runtime, the engine or GTK start any thread.
        std::env::set_var(key, value);
    }
}

/// The variable to set, if any, given a way to read the environment.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn linux_env(get: impl Fn(&str) -> Option<std::ffi::OsString>) -> Option<(&'static str, &'static str)> {
    const KEY: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";
    let gpu = get("TOPUP_DESK_GPU").is_some_and(|v| v == "1");
    if gpu || get(KEY).is_some() {
        None
    } else {
        Some((KEY, "1"))
    }
}

#[cfg(test)]
mod tests {
    use super::linux_env;
    use std::ffi::OsString;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| OsString::from(v))
    }

    #[test]
    fn software_rendering_unless_the_user_chose() {
        assert_eq!(linux_env(env(&[])), Some(("WEBKIT_DISABLE_COMPOSITING_MODE", "1")));
        assert_eq!(linux_env(env(&[("TOPUP_DESK_GPU", "1")])), None);
        assert_eq!(
            linux_env(env(&[("TOPUP_DESK_GPU", "0")])),
            Some(("WEBKIT_DISABLE_COMPOSITING_MODE", "1"))
        );
        assert_eq!(linux_env(env(&[("WEBKIT_DISABLE_COMPOSITING_MODE", "0")])), None);
    }
}
