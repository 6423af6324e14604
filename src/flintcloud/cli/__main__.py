from flintcloud.cli import main

main()
