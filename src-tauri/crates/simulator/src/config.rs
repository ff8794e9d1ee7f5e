//! Accounts and knobs of one simulator instance.
//!
//! Why the sandbox credentials are public constants: the sandbox mode of the app and the tests of other
//! crates must be able to sign requests without any shared secret store; they are demo values that no
//! real provider accepts.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

/// Sandbox dingyin merchant number (`userid`).
pub const SANDBOX_DINGYIN_USERID: &str = "A9000001";
/// Sandbox dingyin signing key (`key`).
pub const SANDBOX_DINGYIN_KEY: &str = "DYSANDBOXKEY20240601";
/// Sandbox oper operator id (`uid`).
pub const SANDBOX_OPER_UID: &str = "3928857";
/// Sandbox oper signing key (`md5key`).
pub const SANDBOX_OPER_MD5KEY: &str = "opersandboxmd5key";
/// Sandbox juhe account openid (signs, never sent).
pub const SANDBOX_JUHE_OPENID: &str = "JHsandbox0penid000000000000000";
/// Sandbox juhe interface key (`key` parameter, also the callback signing appkey).
pub const SANDBOX_JUHE_APPKEY: &str = "jhsandboxappkey00000000000000001";
/// Starting balance of each sandbox account: 10 000 yuan, in li.
pub const SANDBOX_INITIAL_BALANCE_LI: i64 = 10_000_000;

/// A dingyin merchant account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DingyinAccount {
    pub userid: String,
    pub key: String,
}

/// An oper operator account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperAccount {
    pub uid: String,
    pub md5key: String,
}

/// A juhe account. The callback URL is configured once per account at juhe, not per order, so it
/// lives here (and can be changed at run time with `Simulator::set_juhe_callback_url`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JuheAccount {
    pub openid: String,
    pub appkey: String,
    pub callback_url: Option<String>,
}

/// How to run a simulator.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Where to listen; port 0 picks a free port.
    pub bind: SocketAddr,
    /// How long an accepted order stays pending before it settles.
    pub settle_after: Duration,
    /// Serve dingyin's `searchpay.do` / `searchbalance.do` on a second listener (and not on the main one).
    pub separate_dingyin_query: bool,
    /// Requests per second per provider before the provider's rate-limit answer; `None` = unlimited.
    pub rate_limit_per_sec: Option<u32>,
    pub dingyin: DingyinAccount,
    pub oper: OperAccount,
    pub juhe: JuheAccount,
    /// Starting balance of each of the three accounts, in li.
    pub initial_balance_li: i64,
    /// Pause between two callback attempts (every provider tries 3 times).
    pub callback_retry_delay: Duration,
}

impl SimConfig {
    /// The sandbox: 127.0.0.1 on a free port, the `SANDBOX_*` credentials, settle after 1 s.
    pub fn sandbox() -> Self {
        SimConfig {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            settle_after: Duration::from_secs(1),
            separate_dingyin_query: false,
            rate_limit_per_sec: None,
            dingyin: DingyinAccount {
                userid: SANDBOX_DINGYIN_USERID.to_string(),
                key: SANDBOX_DINGYIN_KEY.to_string(),
            },
            oper: OperAccount { uid: SANDBOX_OPER_UID.to_string(), md5key: SANDBOX_OPER_MD5KEY.to_string() },
            juhe: JuheAccount {
                openid: SANDBOX_JUHE_OPENID.to_string(),
                appkey: SANDBOX_JUHE_APPKEY.to_string(),
                callback_url: None,
            },
            initial_balance_li: SANDBOX_INITIAL_BALANCE_LI,
            callback_retry_delay: Duration::from_millis(300),
        }
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        Self::sandbox()
    }
}
