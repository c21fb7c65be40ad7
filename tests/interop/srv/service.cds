using interop from '../db/schema';

@path: 'catalog'
service CatalogService {
  entity Authors as projection on interop.Authors;
  entity Books   as projection on interop.Books;
}
