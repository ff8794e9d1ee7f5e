//! Which face values a provider sells, per product kind.
//!
//! Why one function: juhe sells nine face values, dingyin sells phone top-ups without a product id,
//! electricity and 抖音 by the whole yuan (its `num` is the amount in yuan), oper takes any amount in
//! fen. The order check says which of these an amount breaks (so the form, the command line and the
//! import name the same problem), and the request builders refuse the same amounts before sending.

use topup_core::{Li, ProductKind, ProviderId};

/// Why a provider cannot sell a face value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaceRefusal {
    /// Zero or less.
    NotPositive,
    /// The provider sells this kind by the whole yuan.
    NotWholeYuan,
    /// The provider sells only these face values (yuan).
    NotSold(&'static [i64]),
    /// oper's amounts are whole fen.
    NotFen,
}

/// The face values (yuan) `provider` sells for `kind` when it sells only some; `None`: any amount its
/// unit allows.
pub fn sold_faces(provider: ProviderId, kind: ProductKind) -> Option<&'static [i64]> {
    match (provider, kind) {
        (ProviderId::Juhe, ProductKind::Phone) => Some(crate::juhe::table::FACE_VALUES),
        _ => None,
    }
}

/// Whether `provider` sells `kind` by the whole yuan (the amount is the quantity), rather than per
/// unit of a product (dingyin's games, and phone products chosen by product id) or in fen (oper).
pub fn whole_yuan_only(provider: ProviderId, kind: ProductKind, has_product: bool) -> bool {
    match provider {
        ProviderId::Juhe => true,
        ProviderId::Oper => false,
        ProviderId::Dingyin => match kind {
            ProductKind::Game => false,
            ProductKind::Phone => !has_product,
            ProductKind::Electricity | ProductKind::Douyin => true,
        },
    }
}

/// What every provider requires of an amount: more than zero.
pub fn positive(face: Li) -> Result<(), FaceRefusal> {
    if face <= Li::ZERO {
        return Err(FaceRefusal::NotPositive);
    }
    Ok(())
}

/// Whether `provider` can sell `face` of `kind` (`has_product`: a provider product id was chosen).
pub fn check(
    provider: ProviderId,
    kind: ProductKind,
    has_product: bool,
    face: Li,
) -> Result<(), FaceRefusal> {
    positive(face)?;
    if whole_yuan_only(provider, kind, has_product) && face.whole_yuan().is_none() {
        return Err(FaceRefusal::NotWholeYuan);
    }
    if let Some(sold) = sold_faces(provider, kind) {
        if !face.whole_yuan().is_some_and(|y| sold.contains(&y)) {
            return Err(FaceRefusal::NotSold(sold));
        }
    } else if provider == ProviderId::Oper && face.to_fen().is_err() {
        return Err(FaceRefusal::NotFen);
    }
    Ok(())
}

/// `1/2/5/10/…`: a face table as people write it.
pub fn faces_text(sold: &[i64]) -> String {
    sold.iter().map(i64::to_string).collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn each_provider_and_kind() {
        use FaceRefusal::*;
        let phone = ProductKind::Phone;
        assert_eq!(check(ProviderId::Juhe, phone, false, Li::from_yuan(50)), Ok(()));
        assert_eq!(
            check(ProviderId::Juhe, phone, false, Li::from_yuan(200)),
            Err(NotSold(crate::juhe::table::FACE_VALUES))
        );
        assert_eq!(check(ProviderId::Juhe, phone, false, Li(10_500)), Err(NotWholeYuan));
        assert_eq!(check(ProviderId::Juhe, phone, false, Li::ZERO), Err(NotPositive));
        assert_eq!(check(ProviderId::Oper, phone, false, Li(10_500)), Ok(()));
        assert_eq!(check(ProviderId::Oper, phone, false, Li(10_005)), Err(NotFen));
        assert_eq!(check(ProviderId::Dingyin, phone, false, Li(10_500)), Err(NotWholeYuan));
        assert_eq!(check(ProviderId::Dingyin, phone, true, Li(10_500)), Ok(()));
        assert_eq!(check(ProviderId::Dingyin, ProductKind::Game, false, Li(10_005)), Ok(()));
        assert_eq!(
            check(ProviderId::Dingyin, ProductKind::Electricity, false, Li(100_500)),
            Err(NotWholeYuan)
        );
        assert_eq!(
            check(ProviderId::Dingyin, ProductKind::Douyin, false, Li::from_yuan(-1)),
            Err(NotPositive)
        );
        assert_eq!(faces_text(&[1, 2, 300]), "1/2/300");
    }

    proptest! {
        /// juhe: accepted exactly when the amount is one of its face values in whole yuan.
        #[test]
        fn juhe_sells_exactly_its_table(li in -1_000_000i64..400_000) {
            let ok = li > 0 && li % 1000 == 0 && crate::juhe::table::FACE_VALUES.contains(&(li / 1000));
            prop_assert_eq!(check(ProviderId::Juhe, ProductKind::Phone, false, Li(li)).is_ok(), ok);
        }

        /// oper: any positive whole number of fen.
        #[test]
        fn oper_takes_any_positive_fen(li in -1_000_000i64..1_000_000) {
            prop_assert_eq!(check(ProviderId::Oper, ProductKind::Phone, false, Li(li)).is_ok(), li > 0 && li % 10 == 0);
        }
    }
}
