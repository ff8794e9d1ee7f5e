//! `topup-desk settings get [KEY]` and `topup-desk settings set KEY VALUE`: every engine setting by
//! its dotted key (`callback.port`, `routing.phone`, `query_delays_ms`, `low_balance.juhe` …), read
//! and checked by the operations the settings screen uses (`topup_engine::api::settings`). Settings
//! added to the engine later appear here without code.

use crate::cli_out::{api_fail, done, emit, open};
use clap::Subcommand;
use serde_json::json;
use std::path::Path;
use std::process::ExitCode;
use topup_engine::api::settings;

#[derive(Subcommand, Debug)]
pub enum SettingsCmd {
    /// 显示引擎设置（不填 KEY 则全部，每行“键 值”） / print the engine settings (all of them, one
    /// `key value` a line, without KEY)
    Get {
        /// 点分隔的键，如 callback.port、routing.phone / a dotted key, e.g. callback.port, routing.phone
        key: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// 修改一项引擎设置（与设置页同一校验；VALUE 按 JSON 读，否则为文本；null 恢复默认） / change one engine
    /// setting (checked as the settings screen checks it; VALUE read as JSON, else as text; null
    /// restores the default). A running `topup-desk run` or window uses it after its next start.
    Set {
        key: String,
        #[arg(allow_hyphen_values = true)]
        value: String,
        #[arg(long)]
        json: bool,
    },
}

pub fn settings(cmd: SettingsCmd, data_dir: Option<&Path>) -> ExitCode {
    let (_dir, book) = match open(data_dir) {
        Ok(v) => v,
        Err(c) => return c,
    };
    done((|| {
        match cmd {
            SettingsCmd::Get { key, json } => {
                let value = settings::get_setting(&book, key.as_deref()).map_err(api_fail)?;
                emit(json, &value, |v| match v {
                    serde_json::Value::Object(_) => {
                        for (k, v) in settings::flatten(v) {
                            let k = match &key {
                                Some(prefix) => format!("{prefix}.{k}"),
                                None => k,
                            };
                            println!("{k}\t{v}");
                        }
                    }
                    other => println!("{other}"),
                });
            }
            SettingsCmd::Set { key, value, json } => {
                let (stored, listener_changed) =
                    settings::set_setting(&book, &key, &value).map_err(api_fail)?;
                emit(
                    json,
                    &json!({"key": key, "value": stored, "listenerChanged": listener_changed}),
                    |_| {
                        println!("{key}\t{stored}");
                    },
                );
            }
        }
        Ok(())
    })())
}
