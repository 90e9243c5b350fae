//! [`Flatten`]: the resource → scope → item iterator every view is built on.

use core::iter::FusedIterator;
use core::slice;

/// How one signal nests: which scopes a resource message holds, which items a scope holds.
pub(crate) trait Nesting {
    /// `ResourceSpans`, `ResourceMetrics`, ...
    type Resource: 'static;
    /// `ScopeSpans`, `ScopeMetrics`, ...
    type Scope: 'static;
    /// `Span`, `Metric`, `LogRecord`, `Profile`.
    type Item: 'static;
    /// The scope messages of a resource message.
    fn scopes(resource: &Self::Resource) -> &[Self::Scope];
    /// The items of a scope message.
    fn items(scope: &Self::Scope) -> &[Self::Item];
}

/// Yields `(resource, scope, item)` for every item, in order, skipping empty groups.
pub(crate) struct Flatten<'a, N: Nesting> {
    resources: slice::Iter<'a, N::Resource>,
    scopes: slice::Iter<'a, N::Scope>,
    items: slice::Iter<'a, N::Item>,
    /// Set whenever `scopes` / `items` are non-empty (they start empty).
    current: Option<(&'a N::Resource, Option<&'a N::Scope>)>,
}

impl<'a, N: Nesting> Flatten<'a, N> {
    pub(crate) fn new(resources: &'a [N::Resource]) -> Self {
        Self {
            resources: resources.iter(),
            scopes: [].iter(),
            items: [].iter(),
            current: None,
        }
    }
}

impl<N: Nesting> Clone for Flatten<'_, N> {
    fn clone(&self) -> Self {
        Self {
            resources: self.resources.clone(),
            scopes: self.scopes.clone(),
            items: self.items.clone(),
            current: self.current,
        }
    }
}

impl<'a, N: Nesting> Iterator for Flatten<'a, N> {
    type Item = (&'a N::Resource, &'a N::Scope, &'a N::Item);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.items.next()
                && let Some((resource, Some(scope))) = self.current
            {
                return Some((resource, scope, item));
            }
            if let Some(scope) = self.scopes.next() {
                if let Some((_, current_scope)) = &mut self.current {
                    *current_scope = Some(scope);
                }
                self.items = N::items(scope).iter();
                continue;
            }
            let resource = self.resources.next()?;
            self.current = Some((resource, None));
            self.scopes = N::scopes(resource).iter();
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let now = self.items.len();
        if self.scopes.len() == 0 && self.resources.len() == 0 {
            (now, Some(now))
        } else {
            (now, None)
        }
    }
}

impl<N: Nesting> FusedIterator for Flatten<'_, N> {}

#[cfg(test)]
mod tests {
    use super::*;

    struct Nums;
    impl Nesting for Nums {
        type Resource = Vec<Vec<u32>>;
        type Scope = Vec<u32>;
        type Item = u32;
        fn scopes(resource: &Vec<Vec<u32>>) -> &[Vec<u32>] {
            resource
        }
        fn items(scope: &Vec<u32>) -> &[u32] {
            scope
        }
    }

    #[test]
    fn skips_empty_groups_and_keeps_order() {
        let data = vec![
            vec![],
            vec![vec![], vec![1, 2]],
            vec![vec![3], vec![], vec![4]],
            vec![],
        ];
        let items: Vec<u32> = Flatten::<Nums>::new(&data).map(|(_, _, i)| *i).collect();
        assert_eq!(items, [1, 2, 3, 4]);
        let scopes: Vec<usize> = Flatten::<Nums>::new(&data)
            .map(|(_, s, _)| s.len())
            .collect();
        assert_eq!(scopes, [2, 2, 1, 1]);
        let resources: Vec<usize> = Flatten::<Nums>::new(&data)
            .map(|(r, _, _)| r.len())
            .collect();
        assert_eq!(resources, [2, 2, 3, 3]);
    }

    #[test]
    fn size_hint_is_exact_on_the_last_scope() {
        let data = vec![vec![vec![1, 2, 3]]];
        let mut it = Flatten::<Nums>::new(&data);
        assert_eq!(it.size_hint(), (0, None));
        it.next();
        assert_eq!(it.size_hint(), (2, Some(2)));
        let rest = it.clone().count();
        assert_eq!(rest, 2);
        assert_eq!(it.by_ref().count(), 2);
        assert_eq!(it.next(), None);
        assert_eq!(Flatten::<Nums>::new(&[]).next(), None);
    }
}
