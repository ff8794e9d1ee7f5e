//! The command line's output on Windows.
//!
//! A Windows release build is linked for the GUI subsystem (`windows_subsystem = "windows"` in
//! `main.rs`): double-clicking the program must not open a black console window next to the console
//! *window* a reseller wants. The price is that such a process starts without a console: started from
//! cmd or PowerShell, everything `topup-desk orders`, `--help` or an error message prints would go
//! nowhere. So when the program is given arguments (somebody typed a command), it attaches to the
//! console of the process that started it (Win32 `AttachConsole(ATTACH_PARENT_PROCESS)`), and Rust's
//! stdout/stderr, which look the standard handles up on every write, reach the terminal. Started from
//! Explorer there is no parent console: the call fails and nothing changes. Output redirected to a
//! file or pipe already has its handles and keeps them.
//!
//! What it cannot change: cmd and PowerShell do not wait for a GUI-subsystem program, so the prompt
//! comes back before the output and `%ERRORLEVEL%` / `$LASTEXITCODE` are not the program's. To wait
//! for it and get its exit code: `start /wait topup-desk.exe …` in cmd, `Start-Process -Wait
//! -NoNewWindow` in PowerShell, or pipe its output (`topup-desk.exe orders | more`); the README says so.
//!
//! The call goes through `winsafe`, a safe wrapper of the Win32 API, so the workspace's
//! `unsafe_code = "forbid"` holds here too. Other platforms have a terminal's handles already.

/// Attaches to the parent's console when arguments were given (Windows; nothing elsewhere). Call
/// first thing in `main`, before anything is printed, including clap's `--help` and usage errors.
pub fn attach_for_command_line() {
    #[cfg(windows)]
    if std::env::args_os().nth(1).is_some() {
        // Fails when there is no parent console (started from Explorer) or when there is one
        // already (a debug build is a console program): both leave things as they are.
        let _ = winsafe::AttachConsole(winsafe::PidParent::Parent);
    }
}
