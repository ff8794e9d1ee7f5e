//! dingyin reply parsing and classification.
//!
//! Replies are XML declaring `GB2312` whose bytes are GBK; they are decoded strictly as GBK (bytes that
//! are not GBK make the reply unknown) and parsed with quick-xml. A reply is usable only when it is one
//! complete, well-formed element whose children are unique simple fields: a truncated document, a
//! repeated `resultno`, an HTML error page or a reply about another `sporderid` is unknown.

use super::table;
use crate::form::{self, Charset};
use crate::{ProviderError, Reply, Verdict};
use quick_xml::events::Event;
use quick_xml::Reader;
use topup_core::Li;

/// A flat XML reply: the root element's name and its direct children's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlReply {
    pub root: String,
    fields: Vec<(String, String)>,
}

impl XmlReply {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.trim())
    }
}

/// Decodes GBK and parses a flat XML document.
pub fn parse_xml(bytes: &[u8]) -> Result<XmlReply, String> {
    let text = form::decode(bytes, Charset::Gbk).ok_or("回复不是有效的 GBK / reply is not valid GBK")?;
    let mut reader = Reader::from_str(&text);
    let mut root: Option<String> = None;
    let mut closed = false;
    let mut depth = 0usize;
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut current: Option<(String, String)> = None;
    loop {
        let event = reader.read_event().map_err(|e| format!("XML 错误 / XML error: {e}"))?;
        match event {
            Event::Start(e) if depth == 0 => {
                if closed {
                    return Err("多个根元素 / more than one root element".into());
                }
                root = Some(String::from_utf8_lossy(e.name().as_ref()).into_owned());
                depth = 1;
            }
            Event::Empty(e) if depth == 0 => {
                if closed {
                    return Err("多个根元素 / more than one root element".into());
                }
                root = Some(String::from_utf8_lossy(e.name().as_ref()).into_owned());
                closed = true;
            }
            Event::Start(e) => {
                if depth == 1 {
                    current = Some((String::from_utf8_lossy(e.name().as_ref()).into_owned(), String::new()));
                }
                depth += 1;
            }
            Event::Empty(e) => {
                if depth == 1 {
                    push_field(
                        &mut fields,
                        String::from_utf8_lossy(e.name().as_ref()).into_owned(),
                        String::new(),
                    )?;
                }
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if depth == 1 {
                    if let Some((name, value)) = current.take() {
                        push_field(&mut fields, name, value)?;
                    }
                } else if depth == 0 {
                    closed = true;
                }
            }
            Event::Text(t) => {
                if depth == 2 {
                    if let Some((_, value)) = current.as_mut() {
                        value.push_str(&t.unescape().map_err(|e| format!("XML 转义错误 / bad escape: {e}"))?);
                    }
                }
            }
            Event::CData(c) => {
                if depth == 2 {
                    if let Some((_, value)) = current.as_mut() {
                        value.push_str(&String::from_utf8_lossy(&c));
                    }
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
    match root {
        Some(root) if closed && depth == 0 => Ok(XmlReply { root, fields }),
        Some(_) => Err("XML 不完整 / truncated XML".into()),
        None => Err("回复中没有 XML 元素 / no XML element in the reply".into()),
    }
}

fn push_field(fields: &mut Vec<(String, String)>, name: String, value: String) -> Result<(), String> {
    if fields.iter().any(|(n, _)| *n == name) {
        return Err(format!("字段 {name} 重复 / field {name} repeated"));
    }
    fields.push((name, value));
    Ok(())
}

fn base_reply(xml: &XmlReply, code: &str) -> Reply {
    let described =
        table::REJECTED.iter().chain(table::QUERY.iter()).find(|(c, _)| *c == code).map(|(_, t)| *t);
    Reply {
        verdict: Verdict::Unknown,
        retry_later: false,
        code: Some(code.to_owned()),
        message: xml
            .get("message")
            .or(xml.get("remark"))
            .filter(|m| !m.is_empty())
            .map(str::to_owned)
            .or(described.map(str::to_owned)),
        provider_order_id: xml.get("orderid").filter(|s| !s.is_empty()).map(str::to_owned),
        cost: xml.get("ordercash").and_then(|c| Li::parse_yuan(c).ok()),
        voucher: xml.get("remark1").filter(|s| !s.is_empty()).map(str::to_owned),
        reason: String::new(),
        not_found: code == "5007",
    }
}

/// Parses and checks that the reply is about `sporderid`; returns the reply and its `resultno`.
fn parse_for_order(bytes: &[u8], sporderid: &str) -> Result<(XmlReply, String), Box<Reply>> {
    let xml = parse_xml(bytes).map_err(|e| {
        Box::new(Reply::unknown(format!("回复无法解析，需查询 / unparsable reply, must query: {e}")))
    })?;
    let Some(code) = xml.get("resultno").map(str::to_owned) else {
        return Err(Box::new(Reply::unknown("回复缺少 resultno，需查询 / reply lacks resultno, must query")));
    };
    if let Some(other) = xml.get("sporderid").filter(|s| !s.is_empty() && *s != sporderid) {
        return Err(Box::new(base_reply(&xml, &code).names_another_order("sporderid", other)));
    }
    Ok((xml, code))
}

/// Classifies a `gameonlinepay.do` reply.
pub fn classify_submit(bytes: &[u8], sporderid: &str) -> Reply {
    let (xml, code) = match parse_for_order(bytes, sporderid) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let mut reply = base_reply(&xml, &code);
    if table::IN_PROGRESS.contains(&code.as_str()) {
        reply.verdict = Verdict::Accepted;
        reply.reason = format!("resultno {code}：已受理 / accepted");
    } else if code == table::SUCCESS {
        reply.verdict = Verdict::Succeeded;
        reply.reason = "resultno 1：充值成功 / succeeded".into();
    } else if table::REJECTED.iter().any(|(c, _)| *c == code) {
        reply.verdict = Verdict::Failed;
        reply.reason = format!("resultno {code}：明确拒绝，未扣款 / definitely rejected, not charged");
    } else if code == table::FAILED_REFUNDED {
        reply.reason =
            "resultno 9 仅在查询或回调中为最终结果，需查询 / 9 is final only from a query or callback".into();
    } else {
        reply.reason = format!("resultno {code}：结果未知，需查询 / outcome unknown, must query");
    }
    reply
}

/// Classifies a `searchpay.do` reply. Only 1 (success) and 9 (failed, refunded) are final; 5007 (not
/// found) and any error are unknown: the order may still have been accepted.
pub fn classify_query(bytes: &[u8], sporderid: &str) -> Reply {
    let (xml, code) = match parse_for_order(bytes, sporderid) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let mut reply = base_reply(&xml, &code);
    if xml.get("sporderid").is_none_or(str::is_empty)
        && (code == table::SUCCESS || code == table::FAILED_REFUNDED)
    {
        return reply.names_no_order("sporderid");
    }
    if table::IN_PROGRESS.contains(&code.as_str()) {
        reply.verdict = Verdict::Accepted;
        reply.reason = format!("resultno {code}：充值中 / in progress");
    } else if code == table::SUCCESS {
        reply.verdict = Verdict::Succeeded;
        reply.reason = "resultno 1：充值成功 / succeeded".into();
    } else if code == table::FAILED_REFUNDED {
        reply.verdict = Verdict::Failed;
        reply.reason = "resultno 9：充值失败已退款 / failed and refunded".into();
    } else {
        reply.reason = format!("查询 resultno {code}：结果未知 / query says {code}, outcome unknown");
    }
    reply
}

/// Reads a `searchbalance.do` reply.
pub fn parse_balance(bytes: &[u8]) -> Result<Li, ProviderError> {
    let xml = parse_xml(bytes).map_err(ProviderError::Malformed)?;
    let code = xml.get("resultno").unwrap_or("");
    if code != table::BALANCE_OK {
        let message = xml.get("message").or(xml.get("remark")).unwrap_or("").to_owned();
        return Err(ProviderError::Provider { code: code.to_owned(), message });
    }
    let text =
        xml.get("balance").ok_or_else(|| ProviderError::Malformed("缺少 balance / no balance".into()))?;
    Li::parse_yuan(text).map_err(|e| ProviderError::Malformed(e.to_string()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A GB2312-declared reply in GBK bytes.
    pub(crate) fn gbk(text: &str) -> Vec<u8> {
        encoding_rs::GBK.encode(text).0.into_owned()
    }

    pub(crate) fn order_xml(resultno: &str) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"GB2312\" ?>\r\n<order><orderid>XS090428000003</orderid>\
             <productid>3312</productid><num>1</num><ordercash>98.5</ordercash><productname>游戏直充</productname>\
             <sporderid>2009042800001</sporderid><account>13590101510</account><resultno>{resultno}</resultno></order>"
        )
    }

    #[test]
    fn doc_sample_is_accepted_with_exact_cost() {
        let r = classify_submit(&gbk(&order_xml("0")), "2009042800001");
        assert_eq!(r.verdict, Verdict::Accepted);
        assert_eq!(r.cost, Some(Li(98_500)));
        assert_eq!(r.provider_order_id.as_deref(), Some("XS090428000003"));
        // The doc's sample literally has "- " before the root (a browser's XML view); still fine.
        let with_dash = order_xml("0").replace("<order>", "- <order>");
        assert_eq!(classify_submit(&gbk(&with_dash), "2009042800001").verdict, Verdict::Accepted);
    }

    #[test]
    fn every_submit_class() {
        let v = |code: &str| classify_submit(&gbk(&order_xml(code)), "2009042800001").verdict;
        assert_eq!(v("1"), Verdict::Succeeded);
        assert_eq!(v("2"), Verdict::Accepted);
        for code in ["5001", "5002", "5003", "5004", "5005", "5008", "5009", "5010", "5011", "5012"] {
            assert_eq!(v(code), Verdict::Failed, "{code}");
        }
        for code in ["5006", "5007", "5013", "9999", "9", "42", "", "5001x"] {
            assert_eq!(v(code), Verdict::Unknown, "{code}");
        }
        let failed = classify_submit(&gbk(&order_xml("5002")), "2009042800001");
        assert!(!failed.retry_later);
        assert_eq!(failed.message.as_deref(), Some("余额不足 / balance too low"));
    }

    #[test]
    fn malformed_replies_are_unknown() {
        let full = gbk(&order_xml("5005"));
        for cut in [10, 40, full.len() / 2, full.len() - 3] {
            assert_eq!(classify_submit(&full[..cut], "2009042800001").verdict, Verdict::Unknown, "cut {cut}");
        }
        let cases: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"\xff\xfe\x00garbage".to_vec(),
            b"<html><body><h1>502 Bad Gateway</h1></body></html>".to_vec(),
            b"<order><resultno>5005</resultno><resultno>0</resultno></order>".to_vec(),
            b"<order><resultno>5005</resultno></order><order/>".to_vec(),
            b"<order><sporderid>OTHER</sporderid><resultno>5005</resultno></order>".to_vec(),
            b"<order><resultno>5005</resultno></orde>".to_vec(),
            // Bytes that are not GBK (0x81 must be followed by a trail byte, not `<`).
            b"<order><productname>\x81</productname><resultno>5005</resultno></order>".to_vec(),
        ];
        for bytes in cases {
            assert_eq!(
                classify_submit(&bytes, "2009042800001").verdict,
                Verdict::Unknown,
                "{}",
                String::from_utf8_lossy(&bytes)
            );
        }
    }

    #[test]
    fn gbk_fields_decode() {
        let xml = parse_xml(&gbk(&order_xml("0"))).unwrap();
        assert_eq!(xml.root, "order");
        assert_eq!(xml.get("productname"), Some("游戏直充"));
    }

    #[test]
    fn query_classes() {
        let q = |code: &str| classify_query(&gbk(&order_xml(code)), "2009042800001");
        assert_eq!(q("0").verdict, Verdict::Accepted);
        assert_eq!(q("2").verdict, Verdict::Accepted);
        assert_eq!(q("1").verdict, Verdict::Succeeded);
        assert_eq!(q("9").verdict, Verdict::Failed);
        for code in ["5007", "5005", "5001", "9999", "x"] {
            assert_eq!(q(code).verdict, Verdict::Unknown, "{code}");
        }
        let voucher = order_xml("1").replace("</order>", "<remark1>PZ123456</remark1></order>");
        assert_eq!(classify_query(&gbk(&voucher), "2009042800001").voucher.as_deref(), Some("PZ123456"));
        let no_id = b"<order><resultno>9</resultno></order>";
        assert_eq!(classify_query(no_id, "2009042800001").verdict, Verdict::Unknown);
    }

    #[test]
    fn a_reply_about_another_order_is_unknown_and_keeps_none_of_its_facts() {
        let other = order_xml("9").replace("</order>", "<remark1>PZ1</remark1></order>");
        for ours in ["2009042800002", "200904280000", "20090428000011"] {
            let q = classify_query(&gbk(&other), ours);
            assert_eq!(
                (q.verdict, q.provider_order_id, q.cost, q.voucher),
                (Verdict::Unknown, None, None, None)
            );
            assert!(q.reason.contains("2009042800001"), "{}", q.reason);
            let s = classify_submit(&gbk(&order_xml("5002")), ours);
            assert_eq!((s.verdict, s.provider_order_id, s.cost), (Verdict::Unknown, None, None));
        }
        let no_id = order_xml("9").replace("<sporderid>2009042800001</sporderid>", "");
        let q = classify_query(&gbk(&no_id), "2009042800001");
        assert_eq!((q.verdict, q.provider_order_id, q.cost), (Verdict::Unknown, None, None));
    }

    #[test]
    fn balance() {
        let ok = gbk("<?xml version=\"1.0\" encoding=\"GB2312\"?><user><userid>10001</userid><balance>1234.567</balance><resultno>1</resultno></user>");
        assert_eq!(parse_balance(&ok), Ok(Li(1_234_567)));
        let empty = b"<user><userid/><balance/><resultno>1</resultno></user>";
        assert!(matches!(parse_balance(empty), Err(ProviderError::Malformed(_))));
        let err = b"<user><resultno>5005</resultno></user>";
        assert!(matches!(parse_balance(err), Err(ProviderError::Provider { .. })));
        assert!(parse_balance(b"<user><balance>1</bal").is_err());
    }
}
