//! Issue 12: the installed program. scripts/package-test.sh installs the built .deb, then runs this
//! test (ignored in ordinary runs) against `/usr/bin/topup-desk` with `TOPUP_DESK_BIN`: started the
//! way the desktop's menu entry starts it (no `--data-dir`), it must open its window with the UI it
//! embeds, say it is in sandbox mode, keep its order book in its default data directory and pay an
//! order there. The script then uninstalls the package and checks that this order book is still there.

use crate::harness::App;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the installed .deb: run by scripts/package-test.sh"]
async fn installed_program_opens_in_sandbox_mode_and_pays_an_order() {
    let app = App::start_installed().await;
    // Its order book is in the default data directory of a Linux user, here under the script's
    // XDG_DATA_HOME.
    app.wait_sandbox_on_own_book().await;
    crate::console::enter_one_sandbox_order(&app).await;
    app.screenshot("installed-app").await;
    app.stop().await;
}
