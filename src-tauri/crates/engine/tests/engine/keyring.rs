//! The real OS keyring (Secret Service). These tests fail, with the reason, when no keyring is running:
//! run them through `scripts/test.sh`.

use topup_engine::secrets::{KeyringStatus, SecretStore};
use topup_engine::Sensitive;

fn store() -> SecretStore {
    // A service name of its own per run, so tests never see a real user's entries or each other's.
    SecretStore::new(format!("topup-desk-test-{}-{}", std::process::id(), rand_suffix()))
}

fn rand_suffix() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}

#[test]
fn keyring_is_reachable() {
    let status = store().status();
    assert_eq!(
        status,
        KeyringStatus { available: true, message: None },
        "no OS keyring: run the tests with scripts/test.sh"
    );
}

#[test]
fn keyring_round_trip_with_a_fresh_store_reading_it_back() {
    let account = "provider/juhe";
    let writer = store();
    let secret = Sensitive::new("juhe-appkey-0123456789abcdef".to_owned());
    writer.set(account, &secret).expect("set");
    // A second store with an empty cache must read the value from the OS keyring itself.
    let reader = SecretStore::new(writer.service().to_owned());
    assert_eq!(
        reader.get(account).expect("get").as_ref().map(|s| s.expose().as_str()),
        Some(secret.expose().as_str())
    );
    // Confirm with the platform's own tool that the item exists in the Secret Service.
    let out = std::process::Command::new("secret-tool")
        .args(["lookup", "service", writer.service(), "username", account])
        .output();
    if let Ok(out) = out {
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            secret.expose().as_str(),
            "secret-tool sees the item"
        );
    }
    writer.delete(account).expect("delete");
    let fresh = SecretStore::new(writer.service().to_owned());
    assert!(fresh.get(account).expect("get after delete").is_none());
    writer.delete(account).expect("deleting nothing is fine");
}

#[test]
fn empty_secrets_are_refused() {
    let err = store().set("provider/oper", &Sensitive::new("  ".to_owned())).unwrap_err();
    assert_eq!(err.code(), "secret_empty");
}

#[test]
fn secrets_read_from_the_keyring_are_redacted_in_text() {
    let s = store();
    s.set("provider/oper", &Sensitive::new("oper-md5key-REDACTME-42".to_owned())).unwrap();
    let line = topup_engine::redact::text("sign input was 10001TD1oper-md5key-REDACTME-42");
    assert!(!line.contains("REDACTME"), "{line}");
    s.delete("provider/oper").unwrap();
}
