module gaffer.dev/pause

go 1.26
