module github.com/perfgate/perfgate/bench/zoo

go 1.22
