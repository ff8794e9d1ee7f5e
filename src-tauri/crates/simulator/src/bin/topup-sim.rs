//! `topup-sim [--port N] [--settle-ms N] [--rate-limit N] [--separate-dingyin-query] [--juhe-callback URL]
//! [--initial-balance-li N]`:
//! a sandbox provider simulator for manual testing, until Ctrl-C.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    topup_sim::run_cli(std::env::args().skip(1).collect()).await
}
