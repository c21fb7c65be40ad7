namespace interop;

entity Authors {
  key ID    : Integer;
      name  : String(20) not null;
      books : Association to many Books on books.author = $self;
}

entity Books {
  key ID     : Integer;
      title  : String(20) not null;
      stock  : Integer;
      author : Association to Authors;
}
