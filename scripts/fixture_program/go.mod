module perfgate.example/fixture

go 1.22
