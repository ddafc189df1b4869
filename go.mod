module github.com/biaogan/biaogan

go 1.26.8
