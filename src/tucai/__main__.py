from tucai.cli import main

raise SystemExit(main())
