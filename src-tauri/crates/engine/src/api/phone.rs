//! What is known about a mobile number: the number segment's answer, then juhe's when juhe is
//! available (cached per number and face, under juhe's limits: see `run::lookup`).

use super::ApiError;
use crate::order::Cell;
use crate::run::Engine;
use serde::Serialize;
use topup_core::Li;
use topup_providers::rules::area::parse_area;
use topup_providers::{Carrier, PhoneProduct};

/// What is known about a mobile number.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct PhoneInfo {
    /// The segment's original carrier, or juhe's answer (right for ported numbers).
    pub carrier: Option<Carrier>,
    /// From the 7-digit number segment (porting keeps a number in its province), or juhe's area when
    /// it names a province.
    pub province: Option<String>,
    pub city: Option<String>,
    /// `segment` (number prefix only: unreliable for ported numbers) or `telcheck` (juhe asked).
    #[ts(type = "\"segment\" | \"telcheck\"")]
    pub source: &'static str,
    pub supported: Option<bool>,
    pub message: Option<String>,
}

/// What the number segment alone says, without asking anyone: carrier, province and city from the
/// 7-digit table ([`topup_providers::phone_segments`], data of April 2020); for segments opened since,
/// the carrier from oper's 3-digit list and no region. `number` is the 11 digits (anything else: all
/// `None`).
pub fn segment_info(number: &str) -> PhoneInfo {
    let segment = topup_providers::phone_segments::lookup(number);
    PhoneInfo {
        carrier: segment.map(|s| s.carrier).or_else(|| topup_providers::oper::segments::carrier_of(number)),
        province: segment.map(|s| s.province.to_owned()),
        city: segment.map(|s| s.city.to_owned()),
        source: "segment",
        ..PhoneInfo::default()
    }
}

/// Puts juhe's telcheck/telquery answer over the segment's: its carrier when it names one (right for
/// ported numbers), its province and city when it names a province (the segment's city is kept only
/// when juhe names the same province and no city).
pub fn apply_telcheck(info: &mut PhoneInfo, product: &PhoneProduct) {
    info.source = "telcheck";
    info.supported = Some(product.supported);
    info.message = product.message.clone().or(product.card_name.clone());
    if let Some(area) = &product.area {
        let (province, city, carrier) = parse_area(area);
        if let Some(province) = province {
            if info.province.as_deref() != Some(province.as_str()) || city.is_some() {
                info.city = city;
            }
            info.province = Some(province);
        }
        if carrier.is_some() {
            info.carrier = carrier;
        }
    }
}

/// The carrier, province and city from the number segment, then juhe's telcheck/telquery when juhe
/// is available (asked once per number and face within the lookup cache's TTL, under juhe's limits:
/// see `run::lookup`).
pub async fn phone_info(engine: &Engine, number: &str, face: Option<&str>) -> Result<PhoneInfo, ApiError> {
    // Read as the order check reads them, so the lookup here and the preflight's share one answer.
    let (number, _) = crate::order::text::normalise_number_text(number, true);
    let mut info = segment_info(&number);
    if !topup_providers::rules::phone::is_mobile(&number) {
        return Ok(info);
    }
    let face = face
        .and_then(|f| crate::order::text::face_value(&Cell::Text(f), &mut Vec::new()))
        .unwrap_or(Li::from_yuan(10));
    if let Some(Ok(product)) = engine.phone_product(&number, face).await {
        apply_telcheck(&mut info, &product);
    }
    Ok(info)
}
